using System.Text;
using System.Text.Json;

namespace Realtime.Bench.Clients;

/// <summary>
/// SignalR's JSON hub protocol over a WebSocket, negotiation skipped: the handshake, invocations with and without an
/// answer, pings. It calls the RealtimeHub's methods (<c>Join</c>, <c>SendToRoom</c>, <c>Broadcast</c>,
/// <c>ConnectionId</c>), which the plain SignalR host offers too.
/// </summary>
public sealed class SignalRLoadConnection(int index, string hubPath = "/realtime") : LoadConnection(index)
{
    private const byte RecordSeparator = 0x1e;
    private static readonly byte[] Ping = "{\"type\":6}\u001e"u8.ToArray();

    protected override TimeSpan KeepAliveInterval => TimeSpan.FromSeconds(15);

    public override Task JoinAsync(string room, CancellationToken cancellationToken) => InvokeAsync("Join", [room], cancellationToken);

    public override Task RoundTripAsync(CancellationToken cancellationToken) => InvokeAsync("ConnectionId", [], cancellationToken);

    public override ValueTask SendToRoomAsync(string room, string message) =>
        SendAsync(Invocation(null, "SendToRoom", [room, "m", message]));

    public override ValueTask BroadcastAsync(string message) => SendAsync(Invocation(null, "Broadcast", ["m", message]));

    public override Task SendToRoomAcknowledgedAsync(string room, string message, CancellationToken cancellationToken) =>
        InvokeAsync("SendToRoom", [room, "m", message], cancellationToken);

    public override Task LeaveAsync(string room, CancellationToken cancellationToken) => InvokeAsync("Leave", [room], cancellationToken);

    /// <summary>Calls a hub method and returns its result as JSON.</summary>
    public async Task<JsonElement> CallAsync(string target, object[] arguments, CancellationToken cancellationToken)
    {
        var (id, answer) = NewAck();
        await SendAsync(Invocation(id, target, arguments));
        var text = await answer.WaitAsync(cancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// With <see cref="TrackPositions"/>, the last <c>{ room, epoch, seq }</c> of each room's <c>event</c>s, as a client
    /// keeps them to resume after a reconnect.
    /// </summary>
    public bool TrackPositions { get; init; }

    private readonly Dictionary<string, (string Epoch, long Seq)> _positions = new(StringComparer.Ordinal);

    public IReadOnlyList<object> Positions()
    {
        lock (_positions)
        {
            return [.. _positions.Select(p => new { room = p.Key, epoch = p.Value.Epoch, seq = p.Value.Seq })];
        }
    }

    protected override Uri EndpointOf(Uri server) => new UriBuilder(server) { Scheme = server.Scheme == "https" ? "wss" : "ws", Path = hubPath }.Uri;

    protected override async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        await SendAsync("{\"protocol\":\"json\",\"version\":1}\u001e");
        var answer = await ReceiveMessageAsync(cancellationToken);
        if (!answer.StartsWith("{}\u001e", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("The SignalR handshake failed: " + answer);
        }
    }

    protected override ValueTask KeepAliveAsync() => SendAsync(Ping);

    protected override ValueTask OnMessageAsync(ReadOnlyMemory<byte> message)
    {
        var rest = message.Span;
        while (rest.Length > 0)
        {
            var end = rest.IndexOf(RecordSeparator);
            var record = end < 0 ? rest : rest[..end];
            if (TrackPositions)
            {
                Track(record);
            }

            if (!TryDeliver(record))
            {
                OnRecord(record);
            }

            rest = end < 0 ? [] : rest[(end + 1)..];
        }

        return ValueTask.CompletedTask;
    }

    private async Task InvokeAsync(string target, object[] arguments, CancellationToken cancellationToken)
    {
        var (id, answer) = NewAck();
        await SendAsync(Invocation(id, target, arguments));
        await answer.WaitAsync(cancellationToken);
    }

    private static byte[] Invocation(int? id, string target, object[] arguments)
    {
        var json = id is null
            ? JsonSerializer.Serialize(new { type = 1, target, arguments })
            : JsonSerializer.Serialize(new { type = 1, invocationId = id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), target, arguments });
        var bytes = new byte[Encoding.UTF8.GetByteCount(json) + 1];
        Encoding.UTF8.GetBytes(json, bytes);
        bytes[^1] = RecordSeparator;
        return bytes;
    }

    private void Track(ReadOnlySpan<byte> record)
    {
        if (record.IndexOf("\"seq\":"u8) < 0)
        {
            return;
        }

        using var document = JsonDocument.Parse(record.ToArray());
        var root = document.RootElement;
        if (root.TryGetProperty("arguments", out var arguments) && arguments.GetArrayLength() == 1 && arguments[0] is var e
            && e.TryGetProperty("room", out var room) && room.ValueKind == JsonValueKind.String
            && e.TryGetProperty("seq", out var seq) && e.TryGetProperty("epoch", out var epoch))
        {
            lock (_positions)
            {
                _positions[room.GetString()!] = (epoch.GetString()!, seq.GetInt64());
            }
        }
    }

    /// <summary>A completion answers an invocation; a close says why the server is going.</summary>
    private void OnRecord(ReadOnlySpan<byte> record)
    {
        using var document = JsonDocument.Parse(record.ToArray());
        var root = document.RootElement;
        switch (root.GetProperty("type").GetInt32())
        {
            case 3:
                var id = int.Parse(root.GetProperty("invocationId").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                var error = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                Acknowledge(id, root.TryGetProperty("result", out var result) ? result.GetRawText() : "", error);
                break;
            case 7:
                Console.Error.WriteLine($"connection {Index}: the server closed it: {Encoding.UTF8.GetString(record)}");
                break;
        }
    }
}
