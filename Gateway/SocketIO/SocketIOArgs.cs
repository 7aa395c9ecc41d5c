using System.Text.Json;
using Realtime.Gateway.SocketIO.Internal;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// The arguments of an event or an acknowledgement, as a client sent them. Binary arguments, at any depth, come as
/// attachments: read them with <see cref="Get{T}"/> into <c>byte[]</c> (or a type with <c>byte[]</c> members).
/// </summary>
public sealed class SocketIOArgs
{
    private readonly JsonElement[] _values;

    internal SocketIOArgs(JsonElement[] values, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        _values = values;
        Attachments = attachments;
    }

    internal static SocketIOArgs From(JsonElement? array, int skip, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        if (array is not { ValueKind: JsonValueKind.Array } values)
        {
            return new SocketIOArgs([], attachments);
        }

        return new SocketIOArgs([.. values.EnumerateArray().Skip(skip).Select(v => v.Clone())], attachments);
    }

    public int Count => _values.Length;

    /// <summary>An argument as JSON; binary data appears as <c>{"_placeholder":true,"num":n}</c>.</summary>
    public JsonElement this[int index] => _values[index];

    /// <summary>The binary attachments, in placeholder order.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Attachments { get; }

    /// <summary>An argument deserialized as <typeparamref name="T"/> (web defaults: camelCase, case-insensitive).</summary>
    public T? Get<T>(int index) => SocketIOEncoding.Deserialize<T>(_values[index], Attachments);

    /// <summary>An argument that is binary data.</summary>
    public byte[] GetBytes(int index) => Get<byte[]>(index) ?? [];

    /// <summary>
    /// The arguments as values to emit or acknowledge with again: JSON as <see cref="JsonElement"/>, binary data as
    /// <c>byte[]</c>, at any depth, so that an echo sends the client back what it sent, attachments included.
    /// </summary>
    public object?[] ToValues()
    {
        var values = new object?[_values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = SocketIOEncoding.CountPlaceholders(_values[i]) == 0 ? _values[i] : WithBytes(_values[i]);
        }

        return values;
    }

    private object? WithBytes(JsonElement value)
    {
        if (SocketIOEncoding.PlaceholderNumber(value) is { } number && number < Attachments.Count)
        {
            return Attachments[number].ToArray();
        }

        return value.ValueKind switch
        {
            JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => WithBytes(p.Value), StringComparer.Ordinal),
            JsonValueKind.Array => value.EnumerateArray().Select(WithBytes).ToArray(),
            _ => value,
        };
    }

    /// <summary>
    /// What a SignalR client or a service sees of these arguments: one as itself, none as null, several as an array;
    /// binary data in base64.
    /// </summary>
    public JsonElement ToJson() => SocketIOEncoding.SignalRData(_values, Attachments);
}
