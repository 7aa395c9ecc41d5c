using Microsoft.AspNetCore.SignalR;

namespace Realtime.Gateway.Core;

/// <summary>An error on a client's call for input the gateway refuses; <see cref="Reason"/> is how metrics count it.</summary>
internal sealed class RejectedHubException(string reason, string message) : HubException(message)
{
    public string Reason { get; } = reason;
}
