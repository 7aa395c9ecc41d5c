using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// SignalR's JSON hub protocol, except that a malformed frame no longer closes the connection. Frames end with the
/// record separator 0x1e, which valid JSON never contains unescaped, so the stream can resynchronize there: a frame
/// that does not parse is skipped and reported as a binding failure, which SignalR answers with an error to the
/// invocation when its id can be read, and the connection goes on. A send (an invocation without an id) of a method
/// that has a pipelined form is handed to that form (see <see cref="SendPipeline"/>).
/// </summary>
internal sealed partial class ResilientJsonHubProtocol(IOptions<JsonHubProtocolOptions> options, IOptions<GatewayOptions> gatewayOptions, GatewayMetrics metrics) : IHubProtocol
{
    private const byte RecordSeparator = 0x1e;

    // Per hub (its binder's type) and method: the name of the method's pipelined form, or null when it has none.
    // Only methods the hub has get here, so the table stays as small as the hubs.
    private static readonly ConcurrentDictionary<(Type Binder, string Target), string?> PipelinedForms = new();

    private readonly JsonHubProtocol _inner = new(options);
    private readonly bool _pipelines = gatewayOptions.Value.PipelinedSends > 0;

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
                ThrowIfOnlyServersSend(message);
                input = input.Slice(attempt.Start);
                MeteredHubProtocol.Count(metrics, Name, message, frame.Length);
                if (_pipelines && message is InvocationMessage { InvocationId: null, StreamIds: null or [] } send && PipelinedForm(binder, send.Target) is { } pipelined)
                {
                    // A send the client does not wait for goes to the method's pipelined form (see SendPipeline).
                    message = new InvocationMessage(null, pipelined, send.Arguments) { Headers = send.Headers };
                }

                return true;
            }

            throw new InvalidDataException("The frame is incomplete.");
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException or FormatException)
        {
            metrics.Rejected(RejectionReason.MalformedFrame);
            metrics.Received(Name, frame.Length);
            var text = Encoding.UTF8.GetString(frame.Slice(0, frame.Length - 1));
            input = input.Slice(frame.End);
            var id = InvocationId().Match(text) is { Success: true } match ? match.Groups[1].Value : null;
            message = MalformedFrame(id, ex);
            return true;
        }
    }

    /// <summary>
    /// Refuses a message that only servers send (a close), which SignalR would answer by closing the connection: the
    /// client gets an error for it, as for any other frame that is not a valid message, and goes on.
    /// </summary>
    internal static void ThrowIfOnlyServersSend(HubMessage message)
    {
        if (message is CloseMessage)
        {
            throw new InvalidDataException("A close message is sent by servers only; a client closes its connection instead.");
        }
    }

    /// <summary>What a frame that does not parse becomes: a binding failure, answered with an error to invocation <paramref name="id"/> when there is one.</summary>
    internal static InvocationBindingFailureMessage MalformedFrame(string? id, Exception error) =>
        new(id, "(malformed frame)", ExceptionDispatchInfo.Capture(new HubException($"The frame is not a valid message: {error.Message}")));

    private static string? PipelinedForm(IInvocationBinder binder, string target) =>
        PipelinedForms.GetOrAdd((binder.GetType(), target), static (key, binder) =>
        {
            var name = HubSendPipeline.MethodPrefix + key.Target;
            try
            {
                binder.GetParameterTypes(name);
                return name;
            }
            catch (Exception ex) when (ex is HubException or InvalidOperationException)
            {
                return null; // the hub has no pipelined form of this method
            }
        }, binder);

    [GeneratedRegex("\"invocationId\"\\s*:\\s*\"([^\"]{1,100})\"")]
    private static partial Regex InvocationId();
}
