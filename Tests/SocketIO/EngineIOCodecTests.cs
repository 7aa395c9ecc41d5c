using Realtime.Gateway.SocketIO.Protocol;

namespace Realtime.Tests.SocketIO;

public sealed class EngineIOCodecTests
{
    [Theory]
    [InlineData("4hello", EngineIOPacketType.Message, "hello")]
    [InlineData("2", EngineIOPacketType.Ping, "")]
    [InlineData("3probe", EngineIOPacketType.Pong, "probe")]
    [InlineData("5", EngineIOPacketType.Upgrade, "")]
    [InlineData("6", EngineIOPacketType.Noop, "")]
    [InlineData("1", EngineIOPacketType.Close, "")]
    [InlineData("0{\"sid\":\"x\"}", EngineIOPacketType.Open, "{\"sid\":\"x\"}")]
    public void DecodeEncode_SpecExamples_RoundTrip(string text, EngineIOPacketType type, string data)
    {
        var packet = EngineIOCodec.Decode(text);

        Assert.Equal(type, packet.Type);
        Assert.Equal(data, packet.Text);
        Assert.Equal(text, EngineIOCodec.Encode(packet));
    }

    [Theory]
    [InlineData("4hello")]
    [InlineData("2")]
    [InlineData("42[\"caf\u00e9\",\"\ud83d\ude00\"]")]
    [InlineData("")]
    [InlineData("7")]
    public void Decode_TheUtf8OfAWebSocketFrame_GivesWhatTheTextGives(string text)
    {
        var fromText = Record.Exception(() => EngineIOCodec.Decode(text)) is { } refused ? (object)refused.Message : EngineIOCodec.Decode(text);
        var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
        var fromUtf8 = Record.Exception(() => EngineIOCodec.Decode(utf8.AsSpan())) is { } refusedToo ? (object)refusedToo.Message : EngineIOCodec.Decode(utf8.AsSpan());

        Assert.Equal(fromText, fromUtf8);
    }

    [Fact]
    public void Decode_Utf8ThatIsNotValid_IsReadWithReplacementCharacters_AsText() =>
        Assert.Equal("a\uFFFDb", EngineIOCodec.Decode([(byte)'4', (byte)'a', 0xC3, (byte)'b']).Text);

    [Theory]
    [InlineData("", "cannot be empty")]
    [InlineData("7", "not an Engine.IO packet type")]
    [InlineData("x4", "not an Engine.IO packet type")]
    public void Decode_Malformed_SaysWhy(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ProtocolException>(() => EngineIOCodec.Decode(text)).Message);

    [Fact]
    public void DecodePayload_TextAndBase64Binary_SplitsOnRecordSeparator()
    {
        var packets = EngineIOCodec.DecodePayload("4hello\u001ebAQID\u001e2");

        Assert.Equal(3, packets.Count);
        Assert.Equal("hello", packets[0].Text);
        Assert.Equal(new byte[] { 1, 2, 3 }, packets[1].Binary!.Value.ToArray());
        Assert.Equal(EngineIOPacketType.Ping, packets[2].Type);
    }

    [Fact]
    public void EncodePayload_TextAndBinary_IsWhatDecodePayloadReads()
    {
        EngineIOPacket[] packets = [EngineIOPacket.Message("héllo"), EngineIOPacket.BinaryMessage(new byte[] { 255, 0, 7 }), new(EngineIOPacketType.Noop, "")];

        var payload = EngineIOCodec.EncodePayload(packets);

        Assert.Equal("4héllo\u001eb/wAH\u001e6", payload);
        var decoded = EngineIOCodec.DecodePayload(payload);
        Assert.Equal(new byte[] { 255, 0, 7 }, decoded[1].Binary!.Value.ToArray());
    }

    [Theory]
    [InlineData("4a\u001ebnot*base64", "not valid base64")]
    [InlineData("4a\u001e\u001e4b", "cannot be empty")]
    [InlineData("9", "not an Engine.IO packet type")]
    public void DecodePayload_Malformed_SaysWhy(string payload, string expected) =>
        Assert.Contains(expected, Assert.Throws<ProtocolException>(() => EngineIOCodec.DecodePayload(payload)).Message);

    [Fact]
    public void DecodePayload_TooManyPackets_IsRefused() =>
        Assert.Contains("more than 3 packets", Assert.Throws<ProtocolException>(() => EngineIOCodec.DecodePayload("2\u001e2\u001e2\u001e2", maxPackets: 3)).Message);
}
