using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Internal;

/// <summary>
/// SignalR's JSON hub protocol, except that a malformed frame no longer closes the connection. Frames end with the
/// record separator 0x1e, which valid JSON never contains unescaped, so the stream can resynchronize there: a frame
/// that does not parse is skipped and reported as a binding failure, which SignalR answers with an error to the
/// invocation when its id can be read, and the connection goes on.
/// </summary>
internal sealed partial class ResilientJsonHubProtocol(IOptions<JsonHubProtocolOptions> options) : IHubProtocol
{
    private const byte RecordSeparator = 0x1e;

    private readonly JsonHubProtocol _inner = new(options);

    public string Name => _inner.Name;

    public int Version => _inner.Version;

    public TransferFormat TransferFormat => _inner.TransferFormat;

    public bool IsVersionSupported(int version) => _inner.IsVersionSupported(version);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => _inner.GetMessageBytes(message);

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => _inner.WriteMessage(message, output);

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubMessage? message)
    {
        if (input.PositionOf(RecordSeparator) is not { } separator)
        {
            message = null;
            return false; // an incomplete frame: wait for more bytes
        }

        var frame = input.Slice(0, input.GetPosition(1, separator));
        var attempt = frame;
        try
        {
            if (_inner.TryParseMessage(ref attempt, binder, out message))
            {
                input = input.Slice(attempt.Start);
                return true;
            }

            throw new InvalidDataException("The frame is incomplete.");
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or FormatException)
        {
            var text = Encoding.UTF8.GetString(frame.Slice(0, frame.Length - 1));
            input = input.Slice(frame.End);
            var id = InvocationId().Match(text) is { Success: true } match ? match.Groups[1].Value : null;
            message = new InvocationBindingFailureMessage(
                id,
                "(malformed frame)",
                ExceptionDispatchInfo.Capture(new HubException($"The frame is not a valid message: {ex.Message}")));
            return true;
        }
    }

    [GeneratedRegex("\"invocationId\"\\s*:\\s*\"([^\"]{1,100})\"")]
    private static partial Regex InvocationId();
}
