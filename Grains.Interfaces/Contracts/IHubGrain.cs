using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>
/// A hub (key: the hub's name): the gateways that serve it, for sends to every connection of the hub. It tracks
/// gateways, not connections, so connecting costs it nothing.
/// </summary>
[GrainType("hub")]
public interface IHubGrain : IGrainWithStringKey
{
    /// <summary>
    /// Registers a gateway of the hub, with the URL other gateways reach it at for requests they forward to it
    /// (socket.io long-polling of a session it owns); null when it takes none.
    /// </summary>
    Task AddGateway(string gatewayId, IGatewayObserver gateway, string? url);

    /// <summary>The URL a registered gateway gave, or null when it is not registered (it left or died) or gave none.</summary>
    Task<string?> GatewayUrl(string gatewayId);

    Task RemoveGateway(string gatewayId);

    /// <summary>
    /// Sends a server-to-server event to every gateway of the hub except the node <paramref name="from"/> (empty: to
    /// all); returns how many got it.
    /// </summary>
    Task<int> ServerEmit(string eventName, System.Text.Json.JsonElement data, string from);

    /// <summary>Sends the payload to every connection of the hub except <paramref name="except"/>; returns its sequence number.</summary>
    Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except);
}
