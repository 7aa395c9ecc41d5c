using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Contracts;

namespace Realtime.Wire;

/// <summary>
/// Serializes an invocation once per hub protocol, as every gateway writes it to connections of that protocol, and
/// refuses what exceeds the size limit. Gateways and services share it, so a message from a service is
/// byte-for-byte what a hub would have sent.
/// </summary>
public sealed class PayloadSerializer(IReadOnlyList<IHubProtocol> protocols, int maxMessageBytes)
{
    public int MaxMessageBytes { get; } = maxMessageBytes;

    public SerializedPayload Serialize(string methodName, object?[] args)
    {
        var invocation = new InvocationMessage(methodName, args);
        var payloads = new ProtocolPayload[protocols.Count];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = new ProtocolPayload(protocols[i].Name, protocols[i].GetMessageBytes(invocation));
        }

        var payload = new SerializedPayload(payloads, DateTime.UtcNow.Ticks);
        if (payload.Size > MaxMessageBytes)
        {
            throw new MessageTooLargeException(payload.Size, MaxMessageBytes);
        }

        return payload;
    }
}

/// <summary>A message is larger than the configured limit.</summary>
public sealed class MessageTooLargeException(int size, int limit)
    : Exception($"The message is {size} bytes, more than the limit of {limit} bytes (Gateway:MaxMessageBytes).")
{
    public int Size { get; } = size;

    public int Limit { get; } = limit;
}
