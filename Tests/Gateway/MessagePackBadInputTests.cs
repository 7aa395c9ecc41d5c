using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using MessagePack;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// MessagePack frames are protected as JSON frames are (<see cref="BadInputTests"/>): a frame that does not parse, or a
/// message a client does not send, gets an error to its invocation when its id can be read, and the connection and
/// every other client go on.
/// </summary>
public sealed class MessagePackBadInputTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    public static TheoryData<string, byte[]> MalformedBodies => new()
    {
        { "not an array", [0xc3] },
        { "an array of garbage", [0x93, 0xc1, 0xc1, 0xc1] },
        { "a type that is not a number", [0x92, 0xa3, (byte)'o', (byte)'n', (byte)'e', 0x80] },
        { "a type no protocol version has", [0x92, 0x63, 0x80] },
        { "a close, which only servers send", [0x93, 0x07, 0xc0, 0xc2] },
        { "an invocation cut short", [0x94, 0x01, 0x80, 0xc0, 0xa4, (byte)'E'] },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task MalformedFrame_IsSkipped_AndTheConnectionAndTheOthersGoOn(string what, byte[] body)
    {
        var ns = GatewayFixture.Unique("msgpack");
        await using var alice = await RawMessagePackClient.ConnectAsync(fixture.Gateway.HubUri(ns));
        await using var bob = await fixture.Gateway.ConnectRawAsync("bob", ns);
        await bob.InvokeAsync("Join", "lobby");

        await alice.SendFrameAsync(body);

        Assert.Null(await alice.InvokeAsync("Echo", "after", what).Within($"an echo after {what}"));
        Assert.Null(await alice.InvokeAsync("SendToRoom", "lobby", "after", what).Within("a room send"));
        await bob.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == what);
        Assert.False(alice.Closed.IsCompleted, $"the connection closed after {what}");
    }

    [Fact]
    public async Task MalformedInvocation_WithAReadableId_GetsItsErrorAndTheConnectionGoesOn()
    {
        await using var alice = await RawMessagePackClient.ConnectAsync(fixture.Gateway.HubUri(GatewayFixture.Unique("msgpack")));

        // [1, {}, "bad-1", "Echo", <an array cut short>]: the id is readable, the arguments are not.
        var writer = new ArrayBufferWriter<byte>();
        var message = new MessagePackWriter(writer);
        message.WriteArrayHeader(5);
        message.Write(1);
        message.WriteMapHeader(0);
        message.Write("bad-1");
        message.Write("Echo");
        message.Flush();
        var body = writer.WrittenSpan.ToArray().Concat(new byte[] { 0x92, 0xa1 }).ToArray();
        var answer = alice.Expect("bad-1");
        await alice.SendFrameAsync(body);

        Assert.Contains("Failed to invoke 'Echo'", await answer.Within("the error to bad-1"));

        // [1, {}, "bad-2", 42, []]: the id is readable, the target is not a name.
        writer.Clear();
        message = new MessagePackWriter(writer);
        message.WriteArrayHeader(5);
        message.Write(1);
        message.WriteMapHeader(0);
        message.Write("bad-2");
        message.Write(42);
        message.WriteArrayHeader(0);
        message.Flush();
        answer = alice.Expect("bad-2");
        await alice.SendFrameAsync(writer.WrittenSpan.ToArray());

        Assert.Contains("The frame is not a valid message", await answer.Within("the error to bad-2"));
        Assert.Null(await alice.InvokeAsync("Echo", "after", "x").Within("an echo after"));
    }

    /// <summary>
    /// A SignalR client of the MessagePack hub protocol that can send any bytes as a frame: handshake, invocations with
    /// ids and their completions, over a real <see cref="ClientWebSocket"/>, without negotiation.
    /// </summary>
    private sealed class RawMessagePackClient : IAsyncDisposable
    {
        private readonly ClientWebSocket _socket = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<string?>> _pending = new();
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private int _next;
        private Task? _receive;

        public Task Closed => _closed.Task;

        public static async Task<RawMessagePackClient> ConnectAsync(Uri url)
        {
            var client = new RawMessagePackClient();
            using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
            await client._socket.ConnectAsync(url, timeout.Token);
            await client._socket.SendAsync("{\"protocol\":\"messagepack\",\"version\":1}\u001e"u8.ToArray(), WebSocketMessageType.Binary, true, timeout.Token);
            var buffer = new byte[256];
            var handshake = await client._socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal("{}\u001e", Encoding.UTF8.GetString(buffer, 0, handshake.Count));
            client._receive = Task.Run(client.ReceiveLoopAsync);
            return client;
        }

        /// <summary>Sends <paramref name="body"/> as one frame, with its length before it.</summary>
        public Task SendFrameAsync(byte[] body)
        {
            var frame = new List<byte>();
            var length = body.Length;
            do
            {
                var b = (byte)(length & 0x7f);
                length >>= 7;
                frame.Add(length > 0 ? (byte)(b | 0x80) : b);
            }
            while (length > 0);

            frame.AddRange(body);
            return _socket.SendAsync(frame.ToArray(), WebSocketMessageType.Binary, true, _stop.Token);
        }

        /// <summary>The error of invocation <paramref name="id"/>'s completion, null when it completed without one.</summary>
        public Task<string?> Expect(string id) =>
            _pending.GetOrAdd(id, _ => new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        /// <summary>Invokes a hub method with string arguments; returns the error of its completion, null when none.</summary>
        public async Task<string?> InvokeAsync(string method, params string[] args)
        {
            var id = "m" + Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var answer = Expect(id);
            var writer = new ArrayBufferWriter<byte>();
            var message = new MessagePackWriter(writer);
            message.WriteArrayHeader(5);
            message.Write(1);
            message.WriteMapHeader(0);
            message.Write(id);
            message.Write(method);
            message.WriteArrayHeader(args.Length);
            foreach (var arg in args)
            {
                message.Write(arg);
            }

            message.Flush();
            await SendFrameAsync(writer.WrittenSpan.ToArray());
            return await answer;
        }

        private async Task ReceiveLoopAsync()
        {
            var buffer = new ArrayBufferWriter<byte>();
            try
            {
                while (true)
                {
                    var result = await _socket.ReceiveAsync(buffer.GetMemory(8192), _stop.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    buffer.Advance(result.Count);
                    var rest = ReadFrames(buffer.WrittenMemory);
                    var left = buffer.WrittenMemory[^rest..].ToArray();
                    buffer.Clear();
                    buffer.Write(left);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
            {
            }
            finally
            {
                _closed.TrySetResult();
            }
        }

        /// <summary>Handles the whole frames in <paramref name="data"/>; returns how many bytes are left over.</summary>
        private int ReadFrames(ReadOnlyMemory<byte> data)
        {
            while (true)
            {
                int length = 0, shift = 0, prefix = 0;
                while (true)
                {
                    if (prefix == data.Length)
                    {
                        return data.Length;
                    }

                    var b = data.Span[prefix++];
                    length |= (b & 0x7f) << shift;
                    shift += 7;
                    if ((b & 0x80) == 0)
                    {
                        break;
                    }
                }

                if (data.Length < prefix + length)
                {
                    return data.Length;
                }

                var reader = new MessagePackReader(data.Slice(prefix, length));
                reader.ReadArrayHeader();
                if (reader.ReadInt32() == 3)
                {
                    // [3, headers, id, resultKind, error or result]: result kind 1 is an error.
                    reader.Skip();
                    var id = reader.ReadString()!;
                    var error = reader.ReadInt32() == 1 ? reader.ReadString() : null;
                    Expect(id);
                    _pending[id].TrySetResult(error);
                }

                data = data[(prefix + length)..];
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            if (_receive is not null)
            {
                await _receive.Within("the receive loop to end");
            }

            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
