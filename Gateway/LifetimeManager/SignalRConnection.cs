using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging;
using Realtime.Gateway.Internal;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>A SignalR connection of this gateway.</summary>
internal sealed class SignalRConnection(
    HubConnectionContext context,
    string @namespace,
    Member member,
    string? rejection,
    SignalRConnection.IClientResults clientResults,
    ILogger logger)
    : LocalConnection(context.ConnectionId, @namespace, member, rejection)
{
    /// <summary>The client method a member of a closed room is called with (argument: the room name).</summary>
    public const string RoomClosedMethod = "roomClosed";

    /// <summary>How the lifetime manager carries out SignalR client results.</summary>
    public interface IClientResults
    {
        Task<T> InvokeLocalAsync<T>(SignalRConnection connection, string methodName, object?[] args, CancellationToken cancellationToken);
    }

    public HubConnectionContext Context { get; } = context;

    public override void Write(OutgoingMessage message) => Write(message.HubMessage);

    public override void Abort() => Context.Abort();

    public override Task CloseForShutdownAsync() =>
        Context.WriteAsync(new CloseMessage("The gateway is shutting down; reconnect.", allowReconnect: true)).AsTask();

    public override Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) =>
        clientResults.InvokeLocalAsync<JsonElement>(this, method, [.. args.Cast<object?>()], cancellationToken);

    public override void RoomClosed(string roomName) =>
        Write(new SerializedHubMessage(new InvocationMessage(RoomClosedMethod, [roomName])));

    private void Write(SerializedHubMessage message)
    {
        var write = Context.WriteAsync(message);
        if (!write.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(write);
        }
    }

    private async Task ObserveAsync(ValueTask write)
    {
        try
        {
            await write;
        }
        catch (Exception ex)
        {
            GatewayLog.WriteFailed(logger, ConnectionId, ex);
        }
    }
}
