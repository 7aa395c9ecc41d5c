using Microsoft.AspNetCore.SignalR;
using Realtime.Runtime;

namespace Realtime.Gateway.Internal;

/// <summary>
/// Gives clients a clear error when a hub method fails because the cluster could not complete it (a silo died and
/// is not yet replaced, a call timed out), instead of SignalR's generic "unexpected error". The text says it is
/// worth trying again; the connection goes on either way.
/// </summary>
internal sealed class ClusterErrorFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (ex is GrainCallException or TimeoutException)
        {
            throw new HubException($"The cluster could not complete {invocationContext.HubMethodName} right now; try again. ({ex.Message})");
        }
    }
}
