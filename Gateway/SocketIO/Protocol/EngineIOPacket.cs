using System.Buffers.Text;
using System.Text;

namespace Realtime.Gateway.SocketIO.Protocol;

/// <summary>Engine.IO v4 packet types, written as one digit at the start of a text packet.</summary>
public enum EngineIOPacketType : byte
{
    Open = 0,
    Close = 1,
    Ping = 2,
    Pong = 3,
    Message = 4,
    Upgrade = 5,
    Noop = 6,
}

/// <summary>One Engine.IO packet: a type and text data, or (messages only) binary data.</summary>
public readonly record struct EngineIOPacket(EngineIOPacketType Type, string Text, ReadOnlyMemory<byte>? Binary = null)
{
    public bool IsBinary => Binary is not null;

    public static EngineIOPacket Message(string text) => new(EngineIOPacketType.Message, text);

    public static EngineIOPacket BinaryMessage(ReadOnlyMemory<byte> data) => new(EngineIOPacketType.Message, "", data);
}

/// <summary>Bad Engine.IO or Socket.IO input, with what is wrong with it.</summary>
public sealed class ProtocolException(string message) : Exception(message);

/// <summary>
/// The Engine.IO v4 encodings. A text packet is its type digit followed by its data (<c>4hello</c>). Over WebSocket a
/// binary message is a binary frame holding only the data. Over HTTP long-polling a payload joins packets with the
/// record separator <c>\x1e</c>, and a binary message is <c>b</c> followed by its data in base64.
/// </summary>
public static class EngineIOCodec
{
    public const char RecordSeparator = '\u001e';

    public static string Encode(EngineIOPacket packet) =>
        packet.IsBinary
            ? throw new ArgumentException("A binary message has no text form; send it as a binary WebSocket frame or in a polling payload.", nameof(packet))
            : (char)('0' + (byte)packet.Type) + packet.Text;

    /// <summary>Decodes one text packet, as received in a long-polling payload.</summary>
    public static EngineIOPacket Decode(ReadOnlySpan<char> text) =>
        new(TypeOf(text.IsEmpty ? null : text[0]), text[1..].ToString());

    /// <summary>Decodes one text packet from the UTF-8 of a WebSocket text frame: its text is decoded once, after the type.</summary>
    public static EngineIOPacket Decode(ReadOnlySpan<byte> utf8) =>
        new(TypeOf(utf8.IsEmpty ? null : (char)utf8[0]), Encoding.UTF8.GetString(utf8[1..]));

    private static EngineIOPacketType TypeOf(char? first)
    {
        if (first is not { } c)
        {
            throw new ProtocolException("An Engine.IO packet cannot be empty.");
        }

        var type = c - '0';
        return type is < 0 or > (int)EngineIOPacketType.Noop
            ? throw new ProtocolException($"'{c}' is not an Engine.IO packet type (0 to 6).")
            : (EngineIOPacketType)type;
    }

    /// <summary>Encodes packets as one HTTP long-polling payload.</summary>
    public static string EncodePayload(IEnumerable<EngineIOPacket> packets) =>
        string.Join(RecordSeparator, packets.Select(p => p.IsBinary ? "b" + Convert.ToBase64String(p.Binary!.Value.Span) : Encode(p)));

    /// <summary>Splits an HTTP long-polling payload into its packets, refusing more than <paramref name="maxPackets"/>.</summary>
    public static IReadOnlyList<EngineIOPacket> DecodePayload(string payload, int maxPackets = 1000)
    {
        var packets = new List<EngineIOPacket>();
        foreach (var range in payload.AsSpan().Split(RecordSeparator))
        {
            if (packets.Count == maxPackets)
            {
                throw new ProtocolException($"The payload holds more than {maxPackets} packets.");
            }

            var part = payload.AsSpan()[range];
            packets.Add(part is ['b', .. var base64] ? new EngineIOPacket(EngineIOPacketType.Message, "", FromBase64(base64)) : Decode(part));
        }

        return packets;
    }

    private static byte[] FromBase64(ReadOnlySpan<char> base64)
    {
        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(base64.Length)];
        return Convert.TryFromBase64Chars(base64, bytes, out var written)
            ? bytes[..written]
            : throw new ProtocolException("A binary packet ('b' prefix) is not valid base64.");
    }
}
