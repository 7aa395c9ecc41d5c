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

    public static SocketIOPacket Decode(string text)
    {
        if (text.Length == 0)
        {
            throw new ProtocolException("A Socket.IO packet cannot be empty.");
        }

        var type = text[0] - '0';
        if (type is < 0 or > (int)SocketIOPacketType.BinaryAck)
        {
            throw new ProtocolException($"'{text[0]}' is not a Socket.IO packet type (0 to 6).");
        }

        var packetType = (SocketIOPacketType)type;
        var i = 1;
        var attachments = 0;
        if (packetType is SocketIOPacketType.BinaryEvent or SocketIOPacketType.BinaryAck)
        {
            var dash = text.IndexOf('-', i);
            if (dash < 0 || !int.TryParse(text.AsSpan(i, dash - i), NumberStyles.None, CultureInfo.InvariantCulture, out attachments))
            {
                throw new ProtocolException("A binary packet must give its attachment count followed by '-'.");
            }

            i = dash + 1;
        }

        var @namespace = "/";
        if (i < text.Length && text[i] == '/')
        {
            var comma = text.IndexOf(',', i);
            var end = comma < 0 ? text.Length : comma;
            @namespace = text[i..end];
            i = comma < 0 ? text.Length : comma + 1;
        }

        long? ackId = null;
        var digits = i;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        if (digits > i)
        {
            if (!long.TryParse(text.AsSpan(i, digits - i), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                throw new ProtocolException("The acknowledgement id is too large.");
            }

            ackId = id;
            i = digits;
        }

        JsonElement? data = null;
        if (i < text.Length)
        {
            if (LoneSurrogateEscape(text.AsSpan(i)) is { } at)
            {
                // System.Text.Json would parse it and refuse the string only when it is read, in whatever reads it.
                throw new ProtocolException($"The packet's data is not valid UTF-16: the escape at character {i + at} is a lone surrogate.");
            }

            try
            {
                data = JsonSerializer.Deserialize<JsonElement>(text.AsSpan(i));
            }
            catch (JsonException ex)
            {
                throw new ProtocolException($"The packet's data is not valid JSON: {ex.Message}");
            }
        }

        CheckPayload(packetType, data);
        return new SocketIOPacket(packetType, @namespace, data, ackId, attachments);
    }

    /// <summary>
    /// Where <paramref name="json"/> has a <c>\uXXXX</c> escape of a surrogate that is not part of a pair (a high one
    /// followed by an escaped low one); null when it has none. JSON's grammar allows them, UTF-16 does not.
    /// </summary>
    internal static int? LoneSurrogateEscape(ReadOnlySpan<char> json)
    {
        var i = 0;
        while (i < json.Length && json[i..].IndexOf('\\') is var next and >= 0)
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

        static char? Escaped(ReadOnlySpan<char> json, int at) =>
            at + 6 <= json.Length && ushort.TryParse(json.Slice(at + 2, 4), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var code)
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
