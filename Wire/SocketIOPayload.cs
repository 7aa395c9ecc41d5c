using System.Buffers.Binary;
using Realtime.Contracts;

namespace Realtime.Wire;

/// <summary>
/// The socket.io form of a <see cref="SerializedPayload"/> (protocol name <c>socket.io</c>): an event's JSON array
/// <c>["name", arg, ...]</c>, in which binary arguments are <c>{"_placeholder":true,"num":n}</c> objects, and those
/// binary attachments. Laid out as a 32-bit little-endian attachment count, each attachment as a 32-bit length and
/// its bytes, then the JSON text. A payload without this form is turned into it by the gateway that delivers it to
/// socket.io connections, from its SignalR JSON form.
/// </summary>
public static class SocketIOPayload
{
    /// <summary>The protocol name of this form in a <see cref="SerializedPayload"/>.</summary>
    public const string ProtocolName = "socket.io";

    /// <summary>Lays out an event's JSON array and its binary attachments as this form.</summary>
    public static ProtocolPayload Create(ReadOnlySpan<byte> json, IReadOnlyList<ReadOnlyMemory<byte>> attachments)
    {
        var size = 4 + json.Length;
        foreach (var attachment in attachments)
        {
            size += 4 + attachment.Length;
        }

        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt32LittleEndian(span, attachments.Count);
        var offset = 4;
        foreach (var attachment in attachments)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[offset..], attachment.Length);
            attachment.Span.CopyTo(span[(offset + 4)..]);
            offset += 4 + attachment.Length;
        }

        json.CopyTo(span[offset..]);
        return new ProtocolPayload(ProtocolName, bytes);
    }

    /// <summary>Splits the form into its JSON text and its attachments (slices of <paramref name="bytes"/>, not copies).</summary>
    public static (ReadOnlyMemory<byte> Json, ReadOnlyMemory<byte>[] Attachments) Read(ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        var count = BinaryPrimitives.ReadInt32LittleEndian(span);
        var attachments = new ReadOnlyMemory<byte>[count];
        var offset = 4;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
            attachments[i] = bytes.Slice(offset + 4, length);
            offset += 4 + length;
        }

        return (bytes[offset..], attachments);
    }

    /// <summary>The socket.io form in <paramref name="payload"/>, if the sender made one.</summary>
    public static ProtocolPayload? Find(SerializedPayload payload)
    {
        foreach (var form in payload.Protocols)
        {
            if (form.Protocol == ProtocolName)
            {
                return form;
            }
        }

        return null;
    }
}
