using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Contracts;

namespace Realtime.Wire;

/// <summary>
/// The SignalR JSON form of a payload (SignalR's JSON hub protocol), which every payload carries but a socket.io emit's
/// that leaves it to the receiving gateways (<c>SerializedPayload.Event</c>): the form the gateways make every other
/// form from.
/// </summary>
public static class HubJson
{
    /// <summary>The name of SignalR's JSON hub protocol, under which a payload carries this form.</summary>
    public const string ProtocolName = "json";

    /// <summary>The JSON form's invocation, without the record separator that ends its frame.</summary>
    public static ReadOnlyMemory<byte> Form(SerializedPayload payload)
    {
        foreach (var form in payload.Protocols)
        {
            if (form.Protocol == ProtocolName)
            {
                var bytes = form.Bytes;
                return bytes.Length > 0 && bytes.Span[^1] == 0x1e ? bytes[..^1] : bytes;
            }
        }

        throw new InvalidOperationException("The payload has no SignalR JSON form.");
    }

    /// <summary>The invocation the JSON form carries, its arguments as <see cref="JsonElement"/>s, for another protocol to write.</summary>
    public static InvocationMessage ToInvocation(SerializedPayload payload) => ToInvocation(Form(payload));

    /// <summary>The invocation a JSON frame carries (with or without its record separator).</summary>
    public static InvocationMessage ToInvocation(ReadOnlyMemory<byte> json)
    {
        if (json.Length > 0 && json.Span[^1] == 0x1e)
        {
            json = json[..^1];
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var target = root.GetProperty("target").GetString()!;
        var arguments = root.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Array
            ? a.EnumerateArray().Select(static e => (object?)e.Clone()).ToArray()
            : [];
        return new InvocationMessage(target, arguments);
    }
}
