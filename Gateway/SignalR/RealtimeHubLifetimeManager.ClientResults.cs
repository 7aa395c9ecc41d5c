using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Gateway.Core;
using Realtime.Wire;

namespace Realtime.Gateway.SignalR;

/// <summary>SignalR client results: calls to one client that wait for its answer, on this gateway or another.</summary>
internal sealed partial class RealtimeHubLifetimeManager<THub>
    where THub : Hub
{
    /// <summary>
    /// SignalR client results: calls a method on one connection's client and waits for its answer. A connection on
    /// another gateway is reached through its session grain, within <see cref="GatewayOptions.ClientResultTimeout"/>.
    /// </summary>
    public override async Task<T> InvokeConnectionAsync<T>(string connectionId, string methodName, object?[] args, CancellationToken cancellationToken = default)
    {
        if (_connections.TryGetValue(connectionId, out var local))
        {
            return local is SignalRConnection signalR
                ? await InvokeLocalAsync<T>(signalR, methodName, args, cancellationToken)
                : (await local.InvokeAsync(methodName, JsonData.ToElements(args), cancellationToken)).Deserialize<T>(JsonData.Options)!;
        }

        var answer = await Session(connectionId).InvokeClient(methodName, JsonData.ToElements(args), _clientResultTimeout).WaitAsync(cancellationToken);
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

    async Task<JsonElement> ILocalHub.InvokeClientLocalAsync(string connectionId, string method, JsonElement[] args, TimeSpan timeout)
    {
        if (!_connections.TryGetValue(connectionId, out var local))
        {
            throw new InvalidOperationException($"Connection {connectionId} is not on this gateway.");
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await local.InvokeAsync(method, args, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The client of connection {connectionId} did not answer {method} within {timeout.TotalSeconds:0.###} s.");
        }
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
