using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Tests.SocketIO;

public sealed class SocketIOCodecTests
{
    public static TheoryData<string, SocketIOPacketType, string, long?, int, string?> SpecExamples => new()
    {
        { "0", SocketIOPacketType.Connect, "/", null, 0, null },
        { "0/admin,{\"token\":\"123\"}", SocketIOPacketType.Connect, "/admin", null, 0, "{\"token\":\"123\"}" },
        { "1/admin,", SocketIOPacketType.Disconnect, "/admin", null, 0, null },
        { "2[\"hello\",1]", SocketIOPacketType.Event, "/", null, 0, "[\"hello\",1]" },
        { "2/admin,456[\"project:delete\",123]", SocketIOPacketType.Event, "/admin", 456, 0, "[\"project:delete\",123]" },
        { "3/admin,456[]", SocketIOPacketType.Ack, "/admin", 456, 0, "[]" },
        { "4{\"message\":\"Not authorized\"}", SocketIOPacketType.ConnectError, "/", null, 0, "{\"message\":\"Not authorized\"}" },
        { "51-[\"hello\",{\"_placeholder\":true,\"num\":0}]", SocketIOPacketType.BinaryEvent, "/", null, 1, "[\"hello\",{\"_placeholder\":true,\"num\":0}]" },
        { "61-/admin,456[{\"_placeholder\":true,\"num\":0}]", SocketIOPacketType.BinaryAck, "/admin", 456, 1, "[{\"_placeholder\":true,\"num\":0}]" },
    };

    [Theory]
    [MemberData(nameof(SpecExamples))]
    public void DecodeEncode_SpecExamples_RoundTrip(string text, SocketIOPacketType type, string @namespace, long? ackId, int attachments, string? data)
    {
        var packet = SocketIOCodec.Decode(text);

        Assert.Equal(type, packet.Type);
        Assert.Equal(@namespace, packet.Namespace);
        Assert.Equal(ackId, packet.AckId);
        Assert.Equal(attachments, packet.Attachments);
        Assert.Equal(data, packet.Data?.GetRawText());
        Assert.Equal(text.TrimEnd(','), SocketIOCodec.Encode(packet).TrimEnd(','));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "", "cannot be empty" },
        { "9[\"x\"]", "not a Socket.IO packet type" },
        { "2", "Event packet cannot carry nothing" },
        { "2{\"a\":1}", "Event packet cannot carry a JSON object" },
        { "2[]", "Event packet cannot carry an empty array" },
        { "2[\"disconnect\"]", "cannot carry an array starting with \"disconnect\"" },
        { "2[{\"not\":\"a name\"}]", "Event packet cannot carry" },
        { "0[1]", "Connect packet cannot carry a JSON array" },
        { "1[\"x\"]", "Disconnect packet cannot carry" },
        { "3{}", "Ack packet cannot carry a JSON object" },
        { "5[\"x\"]", "attachment count followed by '-'" },
        { "2[\"x\"", "not valid JSON" },
        { "2abc", "not valid JSON" },
        { "2/admin,99999999999999999999[\"x\"]", "too large" },
        { "2[\"\\udc00\"]", "not valid UTF-16" },
        { "2[\"\\ud800x\",1]", "not valid UTF-16" },
        { "0{\"\\udc00\":1}", "not valid UTF-16" },
    };

    [Theory]
    [InlineData("[\"\\ud83d\\ude00\"]")]
    [InlineData("[\"\\\\udc00\"]")]
    [InlineData("[\"\\u00e9\\n\\\\\"]")]
    [InlineData("[\"x\\\\\",\"\\u0041\"]")]
    public void Decode_EscapesThatAreValidUtf16_Parse(string data) =>
        Assert.Equal(System.Text.Json.JsonValueKind.Array, SocketIOCodec.Decode("2" + data).Data!.Value.ValueKind);

    [Fact]
    public void Decode_TheUtf8OfAFrame_ReadsItsNamespaceAckAndData_WithTheirCharacters()
    {
        // As a WebSocket text frame holds it, after the Engine.IO type: the packet is a slice of the buffer.
        var frame = System.Text.Encoding.UTF8.GetBytes("42/caf\u00e9,12[\"\u00e9v\u00e9nement\",\"\ud83d\ude00\",{\"a\":\"\u4e2d\"}]");

        var packet = SocketIOCodec.Decode(frame.AsSpan(1));

        Assert.Equal(SocketIOPacketType.Event, packet.Type);
        Assert.Equal("/caf\u00e9", packet.Namespace);
        Assert.Equal(12, packet.AckId);
        Assert.Equal("\u00e9v\u00e9nement", packet.Data!.Value[0].GetString());
        Assert.Equal("\ud83d\ude00", packet.Data!.Value[1].GetString());
        Assert.Equal("\u4e2d", packet.Data!.Value[2].GetProperty("a").GetString());
    }

    [Theory]
    [InlineData("2[\"\\udc00\"]", 3)]
    [InlineData("2/caf\u00e9,[1,\"\\ud800\"]", 12)]
    public void Decode_ALoneSurrogateEscape_IsNamedAtItsByte(string text, int at) =>
        Assert.Contains($"the escape at byte {at} is a lone surrogate", Assert.Throws<ProtocolException>(() => SocketIOCodec.Decode(System.Text.Encoding.UTF8.GetBytes(text))).Message);

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Decode_Malformed_SaysWhy(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ProtocolException>(() => SocketIOCodec.Decode(text)).Message);

    [Theory]
    [InlineData("/", 0, null, "42[\"e\",1]")]
    [InlineData("/chat", 0, 7L, "42/chat,7[\"e\",1]")]
    [InlineData("/caf\u00e9", 2, null, "452-/caf\u00e9,[\"e\",1]")]
    [InlineData("/chat", 12, 1234567890123L, "4512-/chat,1234567890123[\"e\",1]")]
    public void EventFrame_PutsTheTypeNamespaceAndAckBeforeTheEvent(string @namespace, int attachments, long? ackId, string expected)
    {
        var form = Realtime.Wire.SocketIOPayload.Create("[\"e\",1]"u8, [.. Enumerable.Range(0, attachments).Select(i => (ReadOnlyMemory<byte>)new[] { (byte)i })]);

        var frame = Realtime.Gateway.SocketIO.Internal.SocketIOEncoding.EventFrame(form, @namespace, ackId);

        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(frame.Text.Span));
        Assert.Equal(Enumerable.Range(0, attachments).Select(i => (byte)i), frame.Attachments.Select(a => a.Span[0]));
    }

    [Fact]
    public void AMessageForSocketsOfTwoNamespaces_HasEachNamespacesFrame_MadeOnce()
    {
        var message = new Realtime.Gateway.Core.OutgoingMessage(new Realtime.Contracts.SerializedPayload([Realtime.Wire.SocketIOPayload.Create("[\"e\"]"u8, [])]));

        var main = Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/");
        var chat = Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/chat");
        var admin = Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/admin");

        Assert.Equal(["42[\"e\"]", "42/chat,[\"e\"]", "42/admin,[\"e\"]"], new[] { main, chat, admin }.Select(f => System.Text.Encoding.UTF8.GetString(f.Text.Span)));
        Assert.Same(main, Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/"));
        Assert.Same(chat, Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/chat"));
        Assert.Same(admin, Realtime.Gateway.SocketIO.Internal.SocketIOFrames.Of(message, "/admin"));
    }

    [Fact]
    public void Encode_EventWithAckOnDefaultNamespace_OmitsTheNamespace()
    {
        var packet = new SocketIOPacket(SocketIOPacketType.Event, "/", System.Text.Json.JsonSerializer.SerializeToElement(new object[] { "my_event", new { data = "hi" } }), 12);

        Assert.Equal("212[\"my_event\",{\"data\":\"hi\"}]", SocketIOCodec.Encode(packet));
    }
}
