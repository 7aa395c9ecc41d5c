using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Contracts;
using Realtime.Gateway.SignalR;
using Realtime.Wire;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>
/// A socket.io message as Engine.IO packets: the text packet (UTF-8, with its Engine.IO type digit) and, for a
/// binary event, the attachments sent as binary packets right after it.
/// </summary>
internal sealed record SocketIOFrame(ReadOnlyMemory<byte> Text, ReadOnlyMemory<byte>[] Attachments);

/// <summary>
/// Turns application events into socket.io frames and back: binary arguments become attachments with placeholders
/// (at any depth, as socket.io does with buffers), and a message sent by a SignalR hub becomes the event its
/// socket.io recipients see.
/// </summary>
internal static class SocketIOEncoding
{
    private static readonly JsonSerializerOptions Options = CreateOptions();

    [ThreadStatic]
    private static List<ReadOnlyMemory<byte>>? _writing;

    [ThreadStatic]
    private static IReadOnlyList<ReadOnlyMemory<byte>>? _reading;

    // This thread's spare writer for JSON that is copied out before the call that wrote it returns (an emit's event,
    // an acknowledgement): a buffer and a JSON writer for every emit were the larger part of what an emit allocated.
    [ThreadStatic]
    private static ScratchJson? _scratch;

    /// <summary>
    /// Serializes an event's arguments as the JSON array <c>["name", ...args]</c>, taking every <c>byte[]</c> and
    /// <c>ReadOnlyMemory&lt;byte&gt;</c> out as an attachment.
    /// </summary>
    public static ProtocolPayload SerializeEvent(string eventName, IReadOnlyList<object?> args)
    {
        var attachments = new List<ReadOnlyMemory<byte>>();
        var scratch = ScratchJson.Rent();
        var writer = scratch.Writer;
        writer.WriteStartArray();
        writer.WriteStringValue(eventName);
        WriteArguments(writer, args, attachments);
        writer.WriteEndArray();
        var payload = SocketIOPayload.Create(scratch.Written(), attachments);
        scratch.Return();
        return payload;
    }

    /// <summary>
    /// Serializes an event with one argument as the JSON array <c>["name", value]</c>, by the value's JSON metadata
    /// (source-generated, say): no reflection. Binary values in it are written as that metadata writes them (base64
    /// by default), not as attachments.
    /// </summary>
    public static ProtocolPayload SerializeEvent<T>(string eventName, T value, JsonTypeInfo<T> typeInfo)
    {
        var scratch = ScratchJson.Rent();
        var writer = scratch.Writer;
        writer.WriteStartArray();
        writer.WriteStringValue(eventName);
        JsonSerializer.Serialize(writer, value, typeInfo);
        writer.WriteEndArray();
        var payload = SocketIOPayload.Create(scratch.Written(), []);
        scratch.Return();
        return payload;
    }

    /// <summary>The frames of an acknowledgement: <c>[args...]</c>, binary values taken out as attachments.</summary>
    public static SocketIOFrame AckFrame(string @namespace, long ackId, IReadOnlyList<object?> args)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var attachments = new List<ReadOnlyMemory<byte>>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            WriteArguments(writer, args, attachments);
            writer.WriteEndArray();
        }

        var header = new StringBuilder("4");
        header.Append(attachments.Count == 0 ? "3" : $"6{attachments.Count.ToString(CultureInfo.InvariantCulture)}-");
        if (@namespace != "/")
        {
            header.Append(@namespace).Append(',');
        }

        header.Append(ackId.ToString(CultureInfo.InvariantCulture));
        return new SocketIOFrame(Encoding.UTF8.GetBytes(header.ToString() + Encoding.UTF8.GetString(buffer.WrittenSpan)), [.. attachments]);
    }

    /// <summary>A control packet (CONNECT answer, CONNECT_ERROR, DISCONNECT) of a namespace, with optional JSON data.</summary>
    public static SocketIOFrame ControlFrame(char type, string @namespace, string? json = null)
    {
        var text = new StringBuilder("4").Append(type);
        if (@namespace != "/")
        {
            text.Append(@namespace).Append(',');
        }

        text.Append(json);
        return new SocketIOFrame(Encoding.UTF8.GetBytes(text.ToString()), []);
    }

    /// <summary>Deserializes a value of an event's arguments, filling placeholders from <paramref name="attachments"/>.</summary>
    public static T? Deserialize<T>(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var previous = _reading;
        _reading = attachments;
        try
        {
            return value.Deserialize<T>(Options);
        }
        finally
        {
            _reading = previous;
        }
    }

    /// <summary>
    /// The JSON of <paramref name="value"/> with each placeholder replaced by its attachment in base64: the form
    /// SignalR clients and services see binary data in.
    /// </summary>
    public static JsonElement InlineAttachments(JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (attachments.Count == 0)
        {
            return value;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteInlined(writer, value, attachments);
        }

        return JsonDocument.Parse(buffer.WrittenMemory).RootElement;
    }

    /// <summary>
    /// What a SignalR client of the RealtimeHub receives for a socket.io event: one argument as the data, none as
    /// null, several as an array; binary in base64.
    /// </summary>
    public static JsonElement SignalRData(IReadOnlyList<JsonElement> args, IReadOnlyList<ReadOnlyMemory<byte>> attachments) => args.Count switch
    {
        0 => default,
        1 => InlineAttachments(args[0], attachments),
        _ => InlineAttachments(JsonSerializer.SerializeToElement(args, Options), attachments),
    };

    /// <summary>
    /// The SignalR form of a socket.io event, in <paramref name="protocol"/>: an invocation of <c>event</c> with a
    /// <see cref="RealtimeEvent"/> of the event's name and data (as <see cref="SignalRData"/> gives it) from the
    /// socket.io form, and its namespace, room and sender from <paramref name="origin"/>. Made by the emitting gateway
    /// while some gateway of the cluster needs it in the payload, otherwise by each gateway that has SignalR recipients.
    /// </summary>
    public static ReadOnlyMemory<byte> SignalRForm(ProtocolPayload socketIOForm, EventOrigin origin, IHubProtocol protocol)
    {
        var (json, attachments) = SocketIOPayload.Read(socketIOForm.Bytes);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var values = new JsonElement[root.GetArrayLength() - 1]; // the event's arguments, after its name
        var eventName = "";
        var i = -1;
        foreach (var value in root.EnumerateArray())
        {
            if (i >= 0)
            {
                values[i] = value;
            }
            else
            {
                eventName = value.GetString()!;
            }

            i++;
        }

        // Serialized while the document lives: the data may be one of its elements.
        var realtimeEvent = new RealtimeEvent(eventName, SignalRData(values, attachments), origin.Namespace, origin.Room, origin.From);
        return protocol.GetMessageBytes(new InvocationMessage(RealtimeHub.EventMethod, [realtimeEvent]));
    }

    /// <summary>The socket.io frames of an event for sockets of <paramref name="namespace"/>.</summary>
    public static SocketIOFrame EventFrame(ProtocolPayload socketIOForm, string @namespace, long? ackId = null)
    {
        var (json, attachments) = SocketIOPayload.Read(socketIOForm.Bytes);

        // 42 or 5<attachments>-, then the namespace unless it is the main one, then the acknowledgement id: laid out
        // straight into the frame, which is made for every message a gateway delivers.
        Span<byte> type = stackalloc byte[16];
        var typeLength = 2;
        type[0] = (byte)'4';
        type[1] = attachments.Length == 0 ? (byte)'2' : (byte)'5';
        if (attachments.Length > 0)
        {
            attachments.Length.TryFormat(type[2..], out var digits, provider: CultureInfo.InvariantCulture);
            type[2 + digits] = (byte)'-';
            typeLength += digits + 1;
        }

        Span<byte> ack = stackalloc byte[20];
        var ackLength = 0;
        if (ackId is { } id)
        {
            id.TryFormat(ack, out ackLength, provider: CultureInfo.InvariantCulture);
        }

        var namespaceLength = @namespace == "/" ? 0 : Encoding.UTF8.GetByteCount(@namespace) + 1;
        var text = new byte[typeLength + namespaceLength + ackLength + json.Length];
        var at = text.AsSpan();
        type[..typeLength].CopyTo(at);
        at = at[typeLength..];
        if (namespaceLength > 0)
        {
            Encoding.UTF8.GetBytes(@namespace, at);
            at[namespaceLength - 1] = (byte)',';
            at = at[namespaceLength..];
        }

        ack[..ackLength].CopyTo(at);
        json.Span.CopyTo(at[ackLength..]);
        return new SocketIOFrame(text, attachments);
    }

    /// <summary>
    /// The same event with <paramref name="offset"/> as its last argument, as socket.io's connection state recovery
    /// sends every event it may replay: <c>42["name",...,"offset"]</c>.
    /// </summary>
    public static SocketIOFrame WithOffset(SocketIOFrame frame, string offset)
    {
        // An offset is base64url: ASCII that needs no escaping in a JSON string.
        var text = frame.Text.Span;
        var end = text.LastIndexOf((byte)']');
        var result = new byte[end + offset.Length + 4];
        text[..end].CopyTo(result);
        result[end] = (byte)',';
        result[end + 1] = (byte)'"';
        Encoding.ASCII.GetBytes(offset, result.AsSpan(end + 2));
        result[^2] = (byte)'"';
        result[^1] = (byte)']';
        return frame with { Text = result };
    }

    /// <summary>
    /// The socket.io form of a message a hub or a service sent, made from its SignalR JSON form: an invocation of
    /// <c>event</c> with a <see cref="RealtimeEvent"/> becomes <c>[event, data]</c>, any other invocation
    /// <c>[method, ...arguments]</c>.
    /// </summary>
    public static ProtocolPayload FromHubJson(SerializedPayload payload)
    {
        using var document = JsonDocument.Parse(HubJson.Form(payload));
        var root = document.RootElement;
        var target = root.GetProperty("target").GetString()!;
        var arguments = root.TryGetProperty("arguments", out var a) ? a : default;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            if (target == RealtimeHub.EventMethod && arguments.ValueKind == JsonValueKind.Array && arguments.GetArrayLength() == 1
                && arguments[0].ValueKind == JsonValueKind.Object && arguments[0].TryGetProperty("event", out var name) && name.ValueKind == JsonValueKind.String)
            {
                writer.WriteStringValue(name.GetString());
                if (arguments[0].TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Undefined)
                {
                    data.WriteTo(writer);
                }
            }
            else
            {
                writer.WriteStringValue(target);
                if (arguments.ValueKind == JsonValueKind.Array)
                {
                    foreach (var argument in arguments.EnumerateArray())
                    {
                        argument.WriteTo(writer);
                    }
                }
            }

            writer.WriteEndArray();
        }

        return SocketIOPayload.Create(buffer.WrittenSpan, []);
    }

    private static void WriteArguments(Utf8JsonWriter writer, IReadOnlyList<object?> args, List<ReadOnlyMemory<byte>> attachments)
    {
        var previous = _writing;
        _writing = attachments;
        try
        {
            foreach (var arg in args)
            {
                if (arg is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    JsonSerializer.Serialize(writer, arg, arg.GetType(), Options);
                }
            }
        }
        finally
        {
            _writing = previous;
        }
    }

    private static void WriteInlined(Utf8JsonWriter writer, JsonElement value, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when PlaceholderNumber(value) is { } number && number < attachments.Count:
                writer.WriteBase64StringValue(attachments[number].Span);
                return;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject())
                {
                    writer.WritePropertyName(property.Name);
                    WriteInlined(writer, property.Value, attachments);
                }

                writer.WriteEndObject();
                return;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    WriteInlined(writer, item, attachments);
                }

                writer.WriteEndArray();
                return;
            default:
                value.WriteTo(writer);
                return;
        }
    }

    /// <summary>The attachment number of a <c>{"_placeholder":true,"num":n}</c> object, or null for any other value.</summary>
    public static int? PlaceholderNumber(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object
        && value.TryGetProperty("_placeholder", out var flag) && flag.ValueKind == JsonValueKind.True
        && value.TryGetProperty("num", out var num) && num.TryGetInt32(out var n) && n >= 0
            ? n
            : null;

    /// <summary>The number of placeholders in <paramref name="value"/>, at any depth.</summary>
    public static int CountPlaceholders(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object when PlaceholderNumber(value) is not null:
                return 1;
            case JsonValueKind.Object:
                var inObject = 0;
                foreach (var property in value.EnumerateObject())
                {
                    inObject += CountPlaceholders(property.Value);
                }

                return inObject;
            case JsonValueKind.Array:
                var inArray = 0;
                foreach (var item in value.EnumerateArray())
                {
                    inArray += CountPlaceholders(item);
                }

                return inArray;
            default:
                return 0;
        }
    }

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonData.Options);
        options.Converters.Add(new BytesConverter());
        options.Converters.Add(new MemoryConverter());
        return options;
    }

    private static void WriteBinary(Utf8JsonWriter writer, ReadOnlyMemory<byte> bytes)
    {
        if (_writing is not { } attachments)
        {
            writer.WriteBase64StringValue(bytes.Span);
            return;
        }

        writer.WriteStartObject();
        writer.WriteBoolean("_placeholder", true);
        writer.WriteNumber("num", attachments.Count);
        writer.WriteEndObject();
        attachments.Add(bytes);
    }

    private static byte[] ReadBinary(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetBytesFromBase64();
        }

        using var placeholder = JsonDocument.ParseValue(ref reader);
        var attachments = _reading ?? [];
        return PlaceholderNumber(placeholder.RootElement) is { } number && number < attachments.Count
            ? attachments[number].ToArray()
            : throw new JsonException("Expected binary data: a base64 string or an attachment placeholder.");
    }

    private sealed class BytesConverter : JsonConverter<byte[]>
    {
        public override byte[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadBinary(ref reader);

        public override void Write(Utf8JsonWriter writer, byte[] value, JsonSerializerOptions options) => WriteBinary(writer, value);
    }

    private sealed class MemoryConverter : JsonConverter<ReadOnlyMemory<byte>>
    {
        public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadBinary(ref reader);

        public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) => WriteBinary(writer, value);
    }

    /// <summary>
    /// A buffer and a JSON writer over it, reused by one thread: what is written must be copied out before
    /// <see cref="Return"/>. A call that fails midway does not return it (the next one makes another), nor does one made
    /// while this thread's is in use (a serializer that emits).
    /// </summary>
    private sealed class ScratchJson
    {
        private const int LargestKept = 64 * 1024;

        private readonly ArrayBufferWriter<byte> _buffer = new(512);

        private ScratchJson() => Writer = new Utf8JsonWriter(_buffer);

        public Utf8JsonWriter Writer { get; }

        public static ScratchJson Rent()
        {
            if (_scratch is not { } scratch)
            {
                return new ScratchJson();
            }

            _scratch = null;
            scratch._buffer.ResetWrittenCount();
            scratch.Writer.Reset(scratch._buffer);
            return scratch;
        }

        /// <summary>What was written, flushed: valid until <see cref="Return"/>.</summary>
        public ReadOnlySpan<byte> Written()
        {
            Writer.Flush();
            return _buffer.WrittenSpan;
        }

        public void Return()
        {
            if (_buffer.Capacity <= LargestKept)
            {
                _scratch = this;
            }
        }
    }
}
