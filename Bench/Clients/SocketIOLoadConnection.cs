using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Realtime.Bench.Clients;

/// <summary>
/// socket.io's WebSocket transport: Engine.IO v4 (open, ping answered with pong) carrying Socket.IO v5 packets
/// (CONNECT to the default namespace, EVENT, ACK). It emits the events the comparison servers answer: <c>join</c> and
/// <c>id</c> with an acknowledgement, <c>room</c> and <c>broadcast</c> without.
/// </summary>
public sealed class SocketIOLoadConnection(int index) : LoadConnection(index)
{
    private static readonly byte[] Pong = "3"u8.ToArray();

    public override Task JoinAsync(string room, CancellationToken cancellationToken) => EmitWithAckAsync(["join", room], cancellationToken);

    public override Task RoundTripAsync(CancellationToken cancellationToken) => EmitWithAckAsync(["id"], cancellationToken);

    public override ValueTask SendToRoomAsync(string room, string message) => SendAsync("42" + JsonSerializer.Serialize<object[]>(["room", room, "m", message]));

    public override ValueTask BroadcastAsync(string message) => SendAsync("42" + JsonSerializer.Serialize<object[]>(["broadcast", "m", message]));

    public override Task SendToRoomAcknowledgedAsync(string room, string message, CancellationToken cancellationToken) =>
        EmitWithAckAsync(["room", room, "m", message], cancellationToken);

    public override Task LeaveAsync(string room, CancellationToken cancellationToken) => EmitWithAckAsync(["leave", room], cancellationToken);

    protected override Uri EndpointOf(Uri server) =>
        new UriBuilder(server) { Scheme = server.Scheme == "https" ? "wss" : "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri;

    protected override async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var open = await ReceiveMessageAsync(cancellationToken);
        if (!open.StartsWith('0'))
        {
            throw new InvalidOperationException("Expected the Engine.IO open packet, got: " + open);
        }

        await SendAsync("40");
        while (true)
        {
            var packet = await ReceiveMessageAsync(cancellationToken);
            if (packet.StartsWith("40", StringComparison.Ordinal))
            {
                return;
            }

            if (packet == "2")
            {
                await SendAsync(Pong);
                continue;
            }

            throw new InvalidOperationException("The socket.io CONNECT was refused: " + packet);
        }
    }

    protected override async ValueTask OnMessageAsync(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        if (span.Length == 1 && span[0] == (byte)'2')
        {
            await SendAsync(Pong);
        }
        else if (span.Length > 2 && span[0] == (byte)'4' && span[1] == (byte)'3')
        {
            // An ACK: "43" then the id, then the arguments.
            var text = Encoding.UTF8.GetString(span[2..]);
            var digits = text.TakeWhile(char.IsAsciiDigit).Count();
            var arguments = text[digits..];
            Acknowledge(int.Parse(text.AsSpan(0, digits), CultureInfo.InvariantCulture), arguments, ErrorOf(arguments));
        }
        else if (span.Length > 1 && span[0] == (byte)'4' && span[1] == (byte)'2')
        {
            TryDeliver(span);
        }
        else if (span.Length > 1 && span[0] == (byte)'4' && span[1] == (byte)'1')
        {
            Console.Error.WriteLine($"connection {Index}: the server disconnected it");
        }
    }

    /// <summary>The gateway answers a callback whose handler failed with <c>[{ "error": "..." }]</c>: that send failed.</summary>
    private static string? ErrorOf(string arguments)
    {
        if (!arguments.StartsWith("[{\"error\"", StringComparison.Ordinal))
        {
            return null;
        }

        using var json = JsonDocument.Parse(arguments);
        return json.RootElement[0].GetProperty("error").GetString() ?? "failed";
    }

    private async Task EmitWithAckAsync(object[] arguments, CancellationToken cancellationToken)
    {
        var (id, answer) = NewAck();
        await SendAsync("42" + id.ToString(CultureInfo.InvariantCulture) + JsonSerializer.Serialize(arguments));
        await answer.WaitAsync(cancellationToken);
    }
}
