using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Wire;

namespace Realtime.Gateway.SignalR;

/// <summary>SignalR client results: calls to one client that wait for its answer, on this gateway or another.</summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>
    where THub : Hub
{
    /// <summary>
    /// SignalR client results: calls a method on one connection's client and waits for its answer. A connection on
    /// another gateway is reached through its session grain, within <see cref="GatewayOptions.ClientResultTimeout"/>; a
    /// socket.io socket answers with an acknowledgement.
    /// </summary>
    public override async Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (_hub.Local(connectionId) is SignalRConnection local)
        {
            return await InvokeLocalAsync<T>(local, methodName, args, cancellationToken);
        }

        var answer = await _hub.InvokeClientAsync(connectionId, methodName, JsonData.ToElements(args), cancellationToken);
        return answer.Deserialize<T>(JsonData.Options)!;
    }

    public override Task SetConnectionResultAsync(string connectionId, CompletionMessage result)
    {
        if (result.InvocationId is { } id && _clientResults.TryGetValue(id, out var pending) && pending.ConnectionId == connectionId)
        {
            if (result.HasResult)
            {
                pending.Complete(result.Result);
            }
            else
            {
                pending.Fail(new HubException(result.Error ?? "The client answered with an error."));
            }
        }

        return Task.CompletedTask;
    }

    public override bool TryGetReturnType(string invocationId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? type)
    {
        type = _clientResults.TryGetValue(invocationId, out var pending) ? pending.Type : null;
        return type is not null;
    }

    public async Task<T> InvokeLocalAsync<T>(SignalRConnection local, string methodName, object?[] args, CancellationToken cancellationToken)
    {
        var id = "r" + Interlocked.Increment(ref _nextClientResult).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var pending = new PendingClientResult(local.ConnectionId, typeof(T));
        _clientResults[id] = pending;
        try
        {
            using var cancel = cancellationToken.Register(static p => ((PendingClientResult)p!).Cancel(), pending);
            if (local.IsClosed)
            {
                throw new HubException("The connection closed before the client answered.");
            }

            await local.Context.WriteAsync(new InvocationMessage(id, methodName, args), cancellationToken);
            return (T)(await pending.Task)!;
        }
        finally
        {
            _clientResults.TryRemove(id, out _);
        }
    }
}
