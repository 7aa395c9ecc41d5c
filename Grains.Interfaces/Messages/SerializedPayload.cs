namespace Realtime.Contracts;

/// <summary>A message already serialized by one hub protocol: the bytes a connection of that protocol is sent.</summary>
/// <param name="Protocol">The protocol's name, for example <c>json</c>.</param>
/// <param name="Bytes">The framed bytes; never changed after creation.</param>
[GenerateSerializer, Immutable, Alias("realtime.protocol-payload")]
public sealed record ProtocolPayload([property: Id(0)] string Protocol, [property: Id(1)] ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Where a socket.io event came from, for the gateways that make its SignalR form themselves (see
/// <see cref="SerializedPayload.Event"/>): the fields of the RealtimeEvent that SignalR clients receive besides the
/// event's name and data, which the socket.io form holds.
/// </summary>
/// <param name="Namespace">The namespace it was emitted in.</param>
/// <param name="Room">The one room it was emitted to; null for a namespace broadcast or several rooms.</param>
/// <param name="From">The emitting socket's id, or <c>server</c>.</param>
[GenerateSerializer, Immutable, Alias("realtime.event-origin")]
public sealed record EventOrigin([property: Id(0)] string Namespace, [property: Id(1)] string? Room, [property: Id(2)] string From);

/// <summary>
/// A user message as the sending gateway serialized it, once per protocol the gateways speak. Grains and gateways
/// pass these bytes on untouched: the record is immutable, so Orleans neither copies it between grains of one
/// process nor re-serializes it per hop; a gateway serializes it once per silo it sends it to.
/// </summary>
/// <param name="Protocols">The serialized forms.</param>
/// <param name="SentAtTicks">When the sender serialized it (UTC ticks), for the gateways' send-to-write metric; 0 if unknown.</param>
[GenerateSerializer, Immutable, Alias("realtime.serialized-payload")]
public sealed record SerializedPayload(IReadOnlyList<ProtocolPayload> Protocols, [property: Id(1)] long SentAtTicks = 0)
{
    /// <summary>
    /// The serialized forms, kept as an array whatever list the caller gave: Orleans serializes an array with a codec
    /// it has, while a list type of its own (a collection expression's, say) is looked for again on every message
    /// (measured: 5 % of a gateway's CPU in the socket.io room fan-out).
    /// </summary>
    [Id(0)]
    public IReadOnlyList<ProtocolPayload> Protocols { get; init; } = Protocols as ProtocolPayload[] ?? Protocols.ToArray();

    /// <summary>
    /// Set on a socket.io emit that carries its socket.io form alone: each gateway that delivers it to SignalR
    /// connections makes the SignalR form from it and this origin. A gateway sends such a payload only when every
    /// gateway of the cluster says in its silo metadata that it reads them (<c>realtime.payloads</c>); otherwise, and
    /// always from services, a payload carries its SignalR JSON form.
    /// </summary>
    [Id(2)]
    public EventOrigin? Event { get; init; }

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
