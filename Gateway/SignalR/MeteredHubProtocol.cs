using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// SignalR's MessagePack hub protocol with the options of <see cref="RealtimeMessagePack"/>, counting what it reads
/// in the gateway's metrics.
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
        var before = input.Length;
        if (!_inner.TryParseMessage(ref input, binder, out message))
        {
            return false;
        }

        Count(metrics, Name, message, before - input.Length);
        return true;
    }

    /// <summary>Counts a message a client sent; pings and other protocol messages add their bytes only.</summary>
    public static void Count(GatewayMetrics metrics, string protocol, HubMessage message, long bytes) =>
        metrics.Received(protocol, bytes, message is HubInvocationMessage ? 1 : 0);
}
