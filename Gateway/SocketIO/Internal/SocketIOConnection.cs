using System.Text.Json;
using Realtime.Gateway.LifetimeManager;
using Realtime.Grains;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>A socket.io socket as the lifetime manager knows it, beside SignalR connections.</summary>
internal sealed class SocketIOConnection(Socket socket, SocketIOClient client, Member member)
    : LocalConnection(socket.Id, socket.Namespace.Name, member, null)
{
    public override string Protocol => Realtime.Gateway.Internal.GatewayMetrics.SocketIOProtocol;

    public override string Transport { get; } = client.TransportName;

    public override void Write(OutgoingMessage message) => client.Send(message.SocketIOFrame(Namespace));

    /// <summary>Disconnects the socket from its namespace, as a server-side disconnect.</summary>
    public override void Abort() => _ = socket.DisconnectAsync();

    public override void Close(string reason) => client.Close(reason);

    public override Task CloseForShutdownAsync()
    {
        client.Close("server shutting down");
        return Task.CompletedTask;
    }

    public override async Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) =>
        (await socket.EmitWithAckAsync(method, [.. args.Cast<object?>()], Timeout.InfiniteTimeSpan, cancellationToken)).ToJson();
}
