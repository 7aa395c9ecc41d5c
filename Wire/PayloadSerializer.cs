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
    /// <summary>The largest payload, all its forms together, that <see cref="Serialize"/> accepts.</summary>
    public int MaxMessageBytes { get; } = maxMessageBytes;

    /// <summary>Serializes an invocation of <paramref name="methodName"/> once per protocol; throws <see cref="MessageTooLargeException"/> past the limit.</summary>
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
    /// <summary>The size of the refused message, in bytes.</summary>
    public int Size { get; } = size;

    /// <summary>The limit it exceeded, in bytes.</summary>
    public int Limit { get; } = limit;
}
