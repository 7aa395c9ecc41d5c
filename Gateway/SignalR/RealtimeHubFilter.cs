using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Contracts;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Wire;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// Applies to every hub. It refuses, with the reason, a connection the lifetime manager could not admit (an invalid
/// namespace, a bad token, a missing token where one is required). It also gives clients a clear error when a
/// method fails because the cluster could not complete it, instead of SignalR's generic "unexpected error". And it
/// makes every invocation but a pipelined send wait for the connection's pipelined sends (see <see cref="SendPipeline"/>).
/// </summary>
internal sealed class RealtimeHubFilter(GatewayMetrics metrics, ClientRateLimits limits, GatewayReceiver gateway, Microsoft.Extensions.Logging.ILogger<RealtimeHubFilter> logger) : IHubFilter
{
    public Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next) =>
        context.Context.Features.Get<Rejection>() is { } rejection
            ? throw new HubException(rejection.Reason)
            : next(context);

    public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        limits.Forget(context.Context.ConnectionId);
        return next(context, exception);
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (!HubSendPipeline.IsPipelined(invocationContext.HubMethod))
        {
            return await InvokeCheckedAsync(invocationContext, next);
        }

        try
        {
            return await InvokeCheckedAsync(invocationContext, next);
        }
        catch (HubException ex) when (invocationContext.Hub is RealtimeHub)
        {
            // A send the client did not wait for has no invocation to answer: the connection is told on its own method.
            var realtime = invocationContext.ServiceProvider.GetRequiredService<LocalHub<RealtimeHub>>();
            RealtimeHub.SendFailed(realtime, invocationContext.Context.ConnectionId, HubSendPipeline.SendOf(invocationContext.HubMethod, invocationContext.HubMethodArguments), ex);
            return null;
        }
    }

    private async ValueTask<object?> InvokeCheckedAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        if (limits.Enabled && limits.Take(invocationContext.Context.ConnectionId, ClientRateLimits.SizeOf(invocationContext.HubMethodArguments)) is { } refusal)
        {
            metrics.Rejected(RejectionReason.RateLimited);
            if (limits.Abusive(invocationContext.Context.ConnectionId))
            {
                var connectionId = invocationContext.Context.ConnectionId;
                GatewayLog.Flooding(logger, connectionId);
                if (!gateway.CloseLocal(invocationContext.Hub.GetType().Name, connectionId, $"Disconnected: the client went on sending over its rate limit. {refusal}"))
                {
                    invocationContext.Context.Abort();
                }
            }

            throw new RateLimitedHubException(refusal);
        }

        if (!HubSendPipeline.IsPipelined(invocationContext.HubMethod))
        {
            // Anything but another pipelined send happens after the connection's pipelined sends.
            await HubSendPipeline.DrainAsync(invocationContext.Context);
        }

        try
        {
            return await next(invocationContext);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            metrics.Rejected(RejectionReason.ClusterUnavailable);
            throw new ClusterUnavailableHubException($"The cluster could not complete {invocationContext.HubMethodName} right now; try again. ({ex.Message})");
        }
        catch (Exception ex) when (Reason(ex) is { } reason)
        {
            metrics.Rejected(reason);
            throw;
        }
    }

    internal static string? Reason(Exception ex) => ex switch
    {
        Authorization.ForbiddenHubException or RateLimitedHubException => null, // counted where it was refused
        MessageTooLargeException => RejectionReason.MessageTooLarge,
        ArgumentException => RejectionReason.InvalidInput,
        RejectedHubException rejected => rejected.Reason,
        HubException => RejectionReason.HubError,
        _ => null,
    };
}

/// <summary>
/// Why the lifetime manager refused a connection, in the connection's features (SignalR's items would be a dictionary
/// made for every connection that is looked at).
/// </summary>
internal sealed record Rejection(string Reason);

/// <summary>The error of a message refused by the rate limit.</summary>
internal sealed class RateLimitedHubException(string message) : HubException(message);

/// <summary>The error of a call the cluster could not complete (a silo died and is not yet replaced, a timeout).</summary>
internal sealed class ClusterUnavailableHubException(string message) : HubException(message);
