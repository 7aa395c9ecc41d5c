using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Realtime.Gateway.SocketIO.Protocol;

/// <summary>Socket.IO v5 packet types, written as the first digit of a packet.</summary>
public enum SocketIOPacketType : byte
{
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// <summary>
/// One Socket.IO packet. For the binary types, <see cref="Data"/> holds <c>{"_placeholder":true,"num":n}</c> objects
/// where the <see cref="Attachments"/> binary Engine.IO messages that follow the packet go.
/// </summary>
public sealed record SocketIOPacket(SocketIOPacketType Type, string Namespace = "/", JsonElement? Data = null, long? AckId = null, int Attachments = 0);

/// <summary>
/// The Socket.IO v5 text encoding, carried in Engine.IO message packets:
/// <code>&lt;type&gt;[&lt;attachments&gt;-][&lt;namespace&gt;,][&lt;ack id&gt;][&lt;JSON data&gt;]</code>
/// The namespace is written only when it is not <c>/</c>. Decoding checks what each type may carry, as the
/// reference parser does: CONNECT an object, DISCONNECT nothing, CONNECT_ERROR a string or an object, EVENT an array
/// whose first element is an event name (not a reserved one) or a number, ACK an array.
/// </summary>
public static class SocketIOCodec
{
    /// <summary>Event names with a meaning of their own, which clients may not send.</summary>
    public static readonly IReadOnlySet<string> ReservedEvents = new HashSet<string>(StringComparer.Ordinal)
    {
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    };

    public static string Encode(SocketIOPacket packet)
    {
        var text = new StringBuilder();
        text.Append((char)('0' + (byte)packet.Type));
        if (packet.Type is SocketIOPacketType.BinaryEvent or SocketIOPacketType.BinaryAck)
        {
            text.Append(packet.Attachments.ToString(CultureInfo.InvariantCulture)).Append('-');
        }

        if (packet.Namespace != "/")
        {
            text.Append(packet.Namespace).Append(',');
        }

        if (packet.AckId is { } id)
        {
            text.Append(id.ToString(CultureInfo.InvariantCulture));
        }

        if (packet.Data is { } data)
        {
            text.Append(data.GetRawText());
        }

        return text.ToString();
    }

    /// <summary>Decodes a packet from its text, as a long-polling payload carries it.</summary>
    public static SocketIOPacket Decode(string text)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            return Decode(bytes.AsSpan(0, Encoding.UTF8.GetBytes(text, bytes)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>
    /// Decodes a packet from its UTF-8, as a WebSocket text frame carries it after the Engine.IO type: the JSON data is
    /// parsed from these bytes, with no string made of them (the namespace alone becomes one, when it is not <c>/</c>).
    /// </summary>
    public static SocketIOPacket Decode(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            throw new ProtocolException("A Socket.IO packet cannot be empty.");
        }

        var type = utf8[0] - '0';
        if (type is < 0 or > (int)SocketIOPacketType.BinaryAck)
        {
            throw new ProtocolException($"'{Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, LeadingByteCount(utf8[0]))])}' is not a Socket.IO packet type (0 to 6).");
        }

        var packetType = (SocketIOPacketType)type;
        var i = 1;
        var attachments = 0;
        if (packetType is SocketIOPacketType.BinaryEvent or SocketIOPacketType.BinaryAck)
        {
            var dash = utf8[i..].IndexOf((byte)'-');
            if (dash < 0 || !int.TryParse(utf8.Slice(i, dash), NumberStyles.None, CultureInfo.InvariantCulture, out attachments))
            {
                throw new ProtocolException("A binary packet must give its attachment count followed by '-'.");
            }

            i += dash + 1;
        }

        var @namespace = "/";
        if (i < utf8.Length && utf8[i] == '/')
        {
            var comma = utf8[i..].IndexOf((byte)',');
            var end = comma < 0 ? utf8.Length : i + comma;
            @namespace = Encoding.UTF8.GetString(utf8[i..end]);
            i = comma < 0 ? utf8.Length : end + 1;
        }

        long? ackId = null;
        var digits = i;
        while (digits < utf8.Length && char.IsAsciiDigit((char)utf8[digits]))
        {
            digits++;
        }

        if (digits > i)
        {
            if (!long.TryParse(utf8[i..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                throw new ProtocolException("The acknowledgement id is too large.");
            }

            ackId = id;
            i = digits;
        }

        JsonElement? data = null;
        if (i < utf8.Length)
        {
            if (LoneSurrogateEscape(utf8[i..]) is { } at)
            {
                // System.Text.Json would parse it and refuse the string only when it is read, in whatever reads it.
                throw new ProtocolException($"The packet's data is not valid UTF-16: the escape at byte {i + at} is a lone surrogate.");
            }

            try
            {
                data = JsonSerializer.Deserialize<JsonElement>(utf8[i..]);
            }
            catch (JsonException ex)
            {
                throw new ProtocolException($"The packet's data is not valid JSON: {ex.Message}");
            }
        }

        CheckPayload(packetType, data);
        return new SocketIOPacket(packetType, @namespace, data, ackId, attachments);
    }

    // The bytes of the UTF-8 sequence a leading byte starts, so that a message names a whole character.
    private static int LeadingByteCount(byte first) => first < 0xC0 ? 1 : first < 0xE0 ? 2 : first < 0xF0 ? 3 : 4;

    /// <summary>
    /// Where the UTF-8 JSON <paramref name="json"/> has a <c>\uXXXX</c> escape of a surrogate that is not part of a pair
    /// (a high one followed by an escaped low one); null when it has none. JSON's grammar allows them, UTF-16 does not.
    /// </summary>
    internal static int? LoneSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var i = 0;
        while (i < json.Length && json[i..].IndexOf((byte)'\\') is var next and >= 0)
        {
            i += next;
            if (i + 1 >= json.Length || json[i + 1] != 'u')
            {
                i += 2; // another escape (\\ or \"): skipped whole, so that an escaped backslash is not taken for one
                continue;
            }

            if (Escaped(json, i) is not { } unit || !char.IsSurrogate(unit))
            {
                i += 2;
                continue;
            }

            if (char.IsHighSurrogate(unit) && i + 7 < json.Length && json[i + 6] == '\\' && json[i + 7] == 'u' && Escaped(json, i + 6) is { } low && char.IsLowSurrogate(low))
            {
                i += 12;
                continue;
            }

            return i;
        }

        return null;

        static char? Escaped(ReadOnlySpan<byte> json, int at) =>
            at + 6 <= json.Length && ushort.TryParse(json.Slice(at + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code)
                ? (char)code
                : null;
    }

    private static void CheckPayload(SocketIOPacketType type, JsonElement? data)
    {
        var valid = type switch
        {
            SocketIOPacketType.Connect => data is null || data.Value.ValueKind == JsonValueKind.Object,
            SocketIOPacketType.Disconnect => data is null,
            SocketIOPacketType.ConnectError => data is { ValueKind: JsonValueKind.String or JsonValueKind.Object },
            SocketIOPacketType.Event or SocketIOPacketType.BinaryEvent => data is { ValueKind: JsonValueKind.Array } events && IsEventName(events),
            _ => data is { ValueKind: JsonValueKind.Array },
        };

        if (!valid)
        {
            throw new ProtocolException($"A {type} packet cannot carry {Describe(data)}.");
        }
    }

    private static bool IsEventName(JsonElement events)
    {
        if (events.GetArrayLength() == 0)
        {
            return false;
        }

        var first = events[0];
        return first.ValueKind == JsonValueKind.Number || (first.ValueKind == JsonValueKind.String && !ReservedEvents.Contains(first.GetString()!));
    }

    private static string Describe(JsonElement? data) => data switch
    {
        null => "nothing",
        { ValueKind: JsonValueKind.Array } array when array.GetArrayLength() == 0 => "an empty array",
        { ValueKind: JsonValueKind.Array } array when array[0].ValueKind == JsonValueKind.String => $"an array starting with \"{array[0].GetString()}\"",
        { } value => $"a JSON {value.ValueKind.ToString().ToLowerInvariant()}",
    };
}
