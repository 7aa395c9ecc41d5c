namespace Realtime.Grains;

/// <summary>A message already serialized by one hub protocol: the bytes a connection of that protocol is sent.</summary>
/// <param name="Protocol">The protocol's name, for example <c>json</c>.</param>
/// <param name="Bytes">The framed bytes; never changed after creation.</param>
public sealed record ProtocolPayload(string Protocol, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// A user message as the sending gateway serialized it, once per protocol the gateways speak. Grains and gateways
/// pass these bytes on untouched; nothing re-serializes a message per hop or per connection.
/// </summary>
public sealed record SerializedPayload(IReadOnlyList<ProtocolPayload> Protocols)
{
    /// <summary>The largest of the serialized forms, in bytes.</summary>
    public int Size
    {
        get
        {
            var size = 0;
            foreach (var payload in Protocols)
            {
                size = Math.Max(size, payload.Bytes.Length);
            }

            return size;
        }
    }
}
