using System.Buffers;
using MessagePack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// SignalR's MessagePack hub protocol with the options of <see cref="RealtimeMessagePack"/>, counting what it reads
/// in the gateway's metrics. As <see cref="ResilientJsonHubProtocol"/> does for JSON, a malformed frame does not close
/// the connection: each frame carries its length first, so the stream resynchronizes after it; a frame that does not
/// parse is skipped and reported as a binding failure, which SignalR answers with an error to the invocation when its
/// id can be read. Only a length prefix that cannot be read ends the connection, as nothing after it can be found.
/// </summary>
internal sealed class MeteredHubProtocol(IOptions<MessagePackHubProtocolOptions> options, GatewayMetrics metrics) : IHubProtocol
{
    private readonly MessagePackHubProtocol _inner = new(options);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubMessage? message)
    {
        if (FrameLength(input) is not var (prefix, length))
        {
            message = null;
            return false; // an incomplete frame: wait for more bytes
        }

        var frame = input.Slice(0, length);
        var attempt = frame;
        try
        {
            if (_inner.TryParseMessage(ref attempt, binder, out message))
            {
                ResilientJsonHubProtocol.ThrowIfOnlyServersSend(message);
                input = input.Slice(frame.End);
                Count(metrics, Name, message, length);
                return true;
            }

            // The parser read the frame and made nothing of it: a message type this protocol version does not know.
            throw new InvalidDataException("The message type is not one a client sends.");
        }
        catch (Exception ex) when (ex is InvalidDataException or MessagePackSerializationException or FormatException or EndOfStreamException or OverflowException or InvalidOperationException)
        {
            metrics.Rejected(RejectionReason.MalformedFrame);
            metrics.Received(Name, length);
            input = input.Slice(frame.End);
            message = ResilientJsonHubProtocol.MalformedFrame(InvocationIdOf(frame.Slice(prefix)), ex);
            return true;
        }
    }

    /// <summary>Counts a message a client sent; pings and other protocol messages add their bytes only.</summary>
    public static void Count(GatewayMetrics metrics, string protocol, HubMessage message, long bytes) =>
        metrics.Received(protocol, bytes, message is HubInvocationMessage ? 1 : 0);

    /// <summary>
    /// The length of the first frame's length prefix, and of the whole frame (prefix included); null while it has not
    /// all arrived. A frame's length comes first, seven bits to a byte, low bits first, in at most five bytes
    /// (SignalR's binary framing).
    /// </summary>
    private static (int Prefix, long Length)? FrameLength(ReadOnlySequence<byte> input)
    {
        var reader = new SequenceReader<byte>(input);
        long length = 0;
        for (var i = 0; i < 5; i++)
        {
            if (!reader.TryRead(out var b))
            {
                return null;
            }

            length |= (long)(b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0)
            {
                if (length > int.MaxValue)
                {
                    break;
                }

                var total = reader.Consumed + length;
                return input.Length >= total ? ((int)reader.Consumed, total) : null;
            }
        }

        throw new InvalidDataException("The frame's length prefix is not valid: the stream cannot be read on.");
    }

    /// <summary>The invocation id of a message that did not parse, when its start can still be read: <c>[type, headers, id, ...]</c>.</summary>
    private static string? InvocationIdOf(ReadOnlySequence<byte> message)
    {
        try
        {
            var body = new MessagePackReader(message);
            if (body.ReadArrayHeader() < 3 || body.ReadInt32() is not (HubProtocolConstants.InvocationMessageType or HubProtocolConstants.StreamInvocationMessageType))
            {
                return null;
            }

            body.Skip(); // the headers
            return body.TryReadNil() ? null : body.ReadString() is { Length: > 0 and <= 100 } id ? id : null;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
