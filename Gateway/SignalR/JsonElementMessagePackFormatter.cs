using System.Buffers;
using System.Text.Json;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// The MessagePack protocol's options on gateways: MessagePack clients see every message in the shape JSON clients
/// see. Primitives, strings, byte arrays, collections and enums (as strings) are MessagePack's own; a
/// <see cref="JsonElement"/> (the hub's arguments and events) becomes the MessagePack value of the same shape; any other
/// object goes through System.Text.Json with SignalR's web defaults (camelCase names) first. Input is untrusted.
/// </summary>
internal static class RealtimeMessagePack
{
    public static MessagePackSerializerOptions SerializerOptions { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(Resolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    private sealed class Resolver : IFormatterResolver
    {
        public static readonly Resolver Instance = new();

        private static readonly IFormatterResolver[] Own =
        [
            BuiltinResolver.Instance, AttributeFormatterResolver.Instance, DynamicEnumAsStringResolver.Instance, DynamicGenericResolver.Instance,
        ];

        public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

        private static class Cache<T>
        {
            public static readonly IMessagePackFormatter<T> Formatter = Find();

            private static IMessagePackFormatter<T> Find()
            {
                if (typeof(T) == typeof(JsonElement))
                {
                    return (IMessagePackFormatter<T>)(object)JsonElementMessagePackFormatter.Instance;
                }

                if (typeof(T) != typeof(object))
                {
                    foreach (var resolver in Own)
                    {
                        if (resolver.GetFormatter<T>() is { } formatter)
                        {
                            return formatter;
                        }
                    }
                }

                return new ViaJsonFormatter<T>();
            }
        }
    }

    /// <summary>An object as System.Text.Json writes it (its runtime type's shape), read back into <typeparamref name="T"/>.</summary>
    private sealed class ViaJsonFormatter<T> : IMessagePackFormatter<T>
    {
        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
            JsonElementMessagePackFormatter.Instance.Serialize(ref writer, Realtime.Wire.JsonData.ToElement(value), options);

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            var element = JsonElementMessagePackFormatter.Instance.Deserialize(ref reader, options);
            return typeof(T) == typeof(object) ? (T)(object)element : element.Deserialize<T>(Realtime.Wire.JsonData.Options)!;
        }
    }
}

/// <summary>
/// A <see cref="JsonElement"/> in MessagePack: written as the value of the same shape (maps, arrays, strings, integers,
/// floats, booleans, nil); any MessagePack value is read into one, binary as a base64 string and a timestamp as an
/// ISO 8601 string, as the JSON protocol would carry them.
/// </summary>
internal sealed class JsonElementMessagePackFormatter : IMessagePackFormatter<JsonElement>
{
    public static readonly JsonElementMessagePackFormatter Instance = new();

    public void Serialize(ref MessagePackWriter writer, JsonElement value, MessagePackSerializerOptions options)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var _ in value.EnumerateObject())
                {
                    count++;
                }

                writer.WriteMapHeader(count);
                foreach (var property in value.EnumerateObject())
                {
                    writer.Write(property.Name);
                    Serialize(ref writer, property.Value, options);
                }

                break;
            case JsonValueKind.Array:
                writer.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                {
                    Serialize(ref writer, item, options);
                }

                break;
            case JsonValueKind.String:
                writer.Write(value.GetString());
                break;
            case JsonValueKind.Number when value.TryGetInt64(out var integer):
                writer.Write(integer);
                break;
            case JsonValueKind.Number when value.TryGetUInt64(out var unsigned):
                writer.Write(unsigned);
                break;
            case JsonValueKind.Number:
                writer.Write(value.GetDouble());
                break;
            case JsonValueKind.True:
                writer.Write(true);
                break;
            case JsonValueKind.False:
                writer.Write(false);
                break;
            default:
                writer.WriteNil();
                break;
        }
    }

    public JsonElement Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Read(ref reader, json, options);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static bool IsTimestamp(MessagePackReader peek) =>
        peek.TryReadExtensionFormatHeader(out var header) && header.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime;

    private static void Read(ref MessagePackReader reader, Utf8JsonWriter json, MessagePackSerializerOptions options)
    {
        options.Security.DepthStep(ref reader);
        try
        {
            switch (reader.NextMessagePackType)
            {
                case MessagePackType.Map:
                    var properties = reader.ReadMapHeader();
                    json.WriteStartObject();
                    for (var i = 0; i < properties; i++)
                    {
                        json.WritePropertyName(reader.NextMessagePackType switch
                        {
                            MessagePackType.String => reader.ReadString()!,
                            MessagePackType.Integer => reader.ReadInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
                            var other => throw new MessagePackSerializationException($"A map key must be a string or an integer, not {other}."),
                        });
                        Read(ref reader, json, options);
                    }

                    json.WriteEndObject();
                    break;
                case MessagePackType.Array:
                    var items = reader.ReadArrayHeader();
                    json.WriteStartArray();
                    for (var i = 0; i < items; i++)
                    {
                        Read(ref reader, json, options);
                    }

                    json.WriteEndArray();
                    break;
                case MessagePackType.String:
                    json.WriteStringValue(reader.ReadString());
                    break;
                case MessagePackType.Integer when reader.NextCode == MessagePackCode.UInt64:
                    json.WriteNumberValue(reader.ReadUInt64());
                    break;
                case MessagePackType.Integer:
                    json.WriteNumberValue(reader.ReadInt64());
                    break;
                case MessagePackType.Float:
                    var number = reader.ReadDouble();
                    if (!double.IsFinite(number))
                    {
                        throw new MessagePackSerializationException("NaN and infinities have no JSON form.");
                    }

                    json.WriteNumberValue(number);
                    break;
                case MessagePackType.Boolean:
                    json.WriteBooleanValue(reader.ReadBoolean());
                    break;
                case MessagePackType.Nil:
                    reader.ReadNil();
                    json.WriteNullValue();
                    break;
                case MessagePackType.Binary:
                    json.WriteBase64StringValue(reader.ReadBytes()!.Value.ToArray());
                    break;
                case MessagePackType.Extension when IsTimestamp(reader):
                    json.WriteStringValue(reader.ReadDateTime());
                    break;
                default:
                    throw new MessagePackSerializationException($"A {reader.NextMessagePackType} value has no JSON form.");
            }
        }
        finally
        {
            reader.Depth--;
        }
    }
}
