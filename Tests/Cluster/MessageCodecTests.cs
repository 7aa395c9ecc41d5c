using System.Buffers;
using System.Text;
using System.Text.Json;
using Realtime.Grains;
using Realtime.Runtime;
using Realtime.Runtime.Internal.Invocation;
using Realtime.Runtime.Internal.Messaging;
using Realtime.Runtime.Internal.Serialization;
using Realtime.Runtime.Internal.Transport;

namespace Realtime.Tests.Cluster;

public sealed class MessageCodecTests
{
    private static readonly GrainInterface Rooms = GrainInterface.Get(typeof(IRoomGrain));
    private static readonly GrainInterface Sessions = GrainInterface.Get(typeof(ISessionGrain));
    private static readonly GrainInterface Gateways = GrainInterface.Get(typeof(IGatewayObserver));

    [Fact]
    public void EncodeDecode_RequestWithRecordsAndObserverReference_RoundTrips()
    {
        var gateway = new GrainId("observer", "gw-1@1/abc");
        var member = new Member("conn-1", "gw-1@1", "alice");
        var message = Request(Rooms, nameof(IRoomGrain.Join), [member, new FakeReference(gateway)]);

        var decoded = RoundTrip(message).Message!;

        Assert.Equal(MessageKind.Request, decoded.Kind);
        Assert.Equal(message.CorrelationId, decoded.CorrelationId);
        Assert.Equal("gw-1@1", decoded.Origin);
        Assert.Equal(new GrainId("room", "RealtimeHub/chat/lobby"), decoded.Target);
        Assert.Equal(message.Method, decoded.Method);
        Assert.Equal(member, decoded.Arguments[0]);
        Assert.Equal(gateway, ((FakeReference)decoded.Arguments[1]!).Id);
    }

    [Fact]
    public void EncodeDecode_DeliveryPayload_CrossesAsTheSameBytesWithoutCopy()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"type\":1,\"target\":\"event\",\"arguments\":[42]}\u001e");
        var payload = new SerializedPayload([new ProtocolPayload("json", bytes)]);
        var delivery = new Delivery("RealtimeHub", DeliveryTarget.Room, "RealtimeHub/chat/lobby", 7, payload, ["conn-2"]);
        var message = Request(Gateways, nameof(IGatewayObserver.Deliver), [delivery], MessageKind.OneWay);
        var frame = MessageCodec.EncodeMessage(message);

        var decoded = (Delivery)Decode(frame).Message!.Arguments[0]!;

        Assert.Equal(7, decoded.Sequence);
        Assert.Equal(["conn-2"], decoded.Except);
        var received = decoded.Payload.Protocols.Single();
        Assert.Equal("json", received.Protocol);
        Assert.Equal(bytes, received.Bytes.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(received.Bytes, out var segment));
        Assert.True(segment.Count == bytes.Length && segment.Array!.Length > bytes.Length, "the payload is a slice of the frame, not a copy");
    }

    [Fact]
    public void EncodeDecode_SessionInfoWithJsonData_RoundTrips()
    {
        var data = JsonSerializer.Deserialize<JsonElement>("""{"nick":"al","tags":[1,2]}""");
        var info = new SessionInfo("RealtimeHub", "/chat", new Member("c", "g", null), ["RealtimeHub/chat/lobby"], data);
        var message = Request(Sessions, nameof(ISessionGrain.Open), [info, new FakeReference(new GrainId("observer", "g/1"))]);

        var decoded = (SessionInfo)RoundTrip(message).Message!.Arguments[0]!;

        Assert.Equal(info.Member, decoded.Member);
        Assert.Equal(info.Rooms, decoded.Rooms);
        Assert.Equal("""{"nick":"al","tags":[1,2]}""", decoded.Data!.Value.GetRawText());
    }

    [Fact]
    public void EncodeDecode_ClientInvocationWithJsonArgumentsAndTimeout_RoundTrips()
    {
        JsonElement[] args = [JsonSerializer.Deserialize<JsonElement>("{\"q\":\"where\"}"), JsonSerializer.Deserialize<JsonElement>("[1,2]")];
        var message = Request(Sessions, nameof(ISessionGrain.InvokeClient), ["getLocation", args, TimeSpan.FromSeconds(7)]);

        var decoded = RoundTrip(message).Message!.Arguments;

        Assert.Equal("getLocation", decoded[0]);
        Assert.Equal(["{\"q\":\"where\"}", "[1,2]"], ((JsonElement[])decoded[1]!).Select(e => e.GetRawText()));
        Assert.Equal(TimeSpan.FromSeconds(7), decoded[2]);
    }

    [Fact]
    public void EncodeDecode_ResponseWithResult_ReadsTheResultByThePendingMethod()
    {
        var method = Method(Rooms, nameof(IRoomGrain.Members));
        IReadOnlyList<Member> members = [new Member("a", "g1", null), new Member("b", "g2", "bob")];
        var response = new Message { Kind = MessageKind.Response, CorrelationId = 99, Method = method, Result = members };

        var decoded = MessageCodec.Decode(Body(MessageCodec.EncodeMessage(response)), id => id == 99 ? method : null, new FakeActivator()).Message!;

        Assert.Equal(members, (IReadOnlyList<Member>)decoded.Result!);
    }

    [Fact]
    public void EncodeDecode_ResponseWithKnownException_RebuildsTheSameType()
    {
        var response = new Message { Kind = MessageKind.Response, CorrelationId = 5, Exception = new InvalidOperationException("boom") };

        var decoded = Decode(MessageCodec.EncodeMessage(response)).Message!;

        var error = Assert.IsType<InvalidOperationException>(decoded.Exception);
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void RebuildException_UnknownType_BecomesGrainCallExceptionNamingIt()
    {
        var error = MessageCodec.RebuildException("Some.Remote.FancyException, Remote", "it broke");

        Assert.IsType<GrainCallException>(error);
        Assert.Equal("Some.Remote.FancyException: it broke", error.Message);
    }

    [Fact]
    public void TryReadFrame_EveryTruncationOfAValidFrame_WaitsForMoreBytes()
    {
        var frame = MessageCodec.EncodeMessage(Request(Rooms, nameof(IRoomGrain.Leave), ["gw", "conn"]));

        for (var length = 0; length < frame.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(frame, 0, length);
            Assert.False(MessageCodec.TryReadFrame(ref buffer, 1 << 20, out _));
        }

        var whole = new ReadOnlySequence<byte>(frame);
        Assert.True(MessageCodec.TryReadFrame(ref whole, 1 << 20, out _));
        Assert.Equal(0, whole.Length);
    }

    [Fact]
    public void Decode_EveryTruncatedBody_ThrowsWireFormatException()
    {
        var body = Body(MessageCodec.EncodeMessage(Request(Sessions, nameof(ISessionGrain.Open), [
            new SessionInfo("H", "/", new Member("c", "g", "u"), ["r1", "r2"], JsonSerializer.Deserialize<JsonElement>("[1]")),
            new FakeReference(new GrainId("observer", "g/1"))])));

        for (var length = 0; length < body.Length; length++)
        {
            Assert.Throws<WireFormatException>(() => MessageCodec.Decode(body[..length], _ => null, new FakeActivator()));
        }
    }

    [Fact]
    public void TryReadFrame_LengthOverLimit_ThrowsWireFormatException()
    {
        var buffer = new ReadOnlySequence<byte>([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]);

        var error = Assert.Throws<WireFormatException>(() => MessageCodec.TryReadFrame(ref buffer, 1 << 20, out _));

        Assert.Contains("exceeds the limit", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 9, 0 }, "version 9")]
    [InlineData(new byte[] { 1, 200 }, "kind 200")]
    [InlineData(new byte[] { 1, 0, 2, 1, 0, 2, (byte)'r', 2, (byte)'k', 1, 2, 3, 4 }, "Interface id")]
    [InlineData(new byte[] { 1, 16, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, "longer than 10 bytes")]
    [InlineData(new byte[] { 1, 16, 3, 0xff, 0xfe, 0 }, "UTF-8")]
    public void Decode_MalformedBody_ThrowsWireFormatExceptionSayingWhy(byte[] body, string expected)
    {
        var error = Assert.Throws<WireFormatException>(() => MessageCodec.Decode(body, _ => null, new FakeActivator()));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Decode_RandomBytes_NeverThrowsAnythingButWireFormatException()
    {
        var random = new Random(1234);
        var valid = Body(MessageCodec.EncodeMessage(Request(Rooms, nameof(IRoomGrain.Join), [new Member("c", "g", "u"), new FakeReference(new GrainId("observer", "g/1"))])));
        for (var i = 0; i < 5000; i++)
        {
            var body = (byte[])valid.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                body[random.Next(2, body.Length)] = (byte)random.Next(256);
            }

            try
            {
                MessageCodec.Decode(body, _ => null, new FakeActivator());
            }
            catch (WireFormatException)
            {
                // expected for most corruptions
            }
        }
    }

    private static Message Request(GrainInterface grainInterface, string method, object?[] args, MessageKind kind = MessageKind.Request) => new()
    {
        Kind = kind,
        CorrelationId = 12345,
        Origin = "gw-1@1",
        Target = new GrainId(grainInterface.GrainType, "RealtimeHub/chat/lobby"),
        Method = Method(grainInterface, method),
        Arguments = args,
    };

    private static GrainMethod Method(GrainInterface grainInterface, string name) => grainInterface.Methods.Single(m => m.Name == name);

    private static DecodedFrame RoundTrip(Message message) => Decode(MessageCodec.EncodeMessage(message));

    private static DecodedFrame Decode(byte[] frame) => MessageCodec.Decode(Body(frame), _ => null, new FakeActivator());

    private static byte[] Body(byte[] frame)
    {
        var buffer = new ReadOnlySequence<byte>(frame);
        Assert.True(MessageCodec.TryReadFrame(ref buffer, 1 << 20, out var body));
        return body;
    }

    /// <summary>Stands in for a reference on the reading side: only its id matters here.</summary>
    private sealed record FakeReference(GrainId Id) : IGatewayObserver, ISessionGrain, IGrainIdentity
    {
        public GrainId GrainId => Id;

        public Task Deliver(Delivery delivery) => throw new NotSupportedException();
        public Task RoomClosed(string hub, string roomKey) => throw new NotSupportedException();
        public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) => throw new NotSupportedException();
        public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) => throw new NotSupportedException();
        public Task<bool> Disconnect(string hub, string connectionId) => throw new NotSupportedException();
        public Task Open(SessionInfo info, IGatewayObserver gateway) => throw new NotSupportedException();
        public Task Close() => throw new NotSupportedException();
        public Task<SessionInfo?> Get() => throw new NotSupportedException();
        public Task AddRoom(string roomKey) => throw new NotSupportedException();
        public Task RemoveRoom(string roomKey) => throw new NotSupportedException();
        public Task SetData(JsonElement? data) => throw new NotSupportedException();
        public Task<bool> Send(SerializedPayload payload) => throw new NotSupportedException();
        public Task<bool> JoinRoom(string roomKey) => throw new NotSupportedException();
        public Task<bool> LeaveRoom(string roomKey) => throw new NotSupportedException();
        public Task<bool> Disconnect() => throw new NotSupportedException();
        public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) => throw new NotSupportedException();
        public Task<JsonElement> InvokeClient(string method, JsonElement[] args, TimeSpan timeout) => throw new NotSupportedException();
        public Task ServerEvent(string hub, string eventName, JsonElement data, string from) => throw new NotSupportedException();
    }

    private sealed class FakeActivator : IReferenceActivator
    {
        public object CreateReference(GrainInterface grainInterface, GrainId id) => new FakeReference(id);
    }
}
