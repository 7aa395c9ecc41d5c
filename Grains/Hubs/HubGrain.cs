using Realtime.Runtime;

namespace Realtime.Grains.Hubs;

/// <summary>One hub: the gateways serving it. It stays active while any gateway is registered.</summary>
public sealed class HubGrain : Grain, IHubGrain, IClusterNodeAware
{
    private readonly Dictionary<string, IGatewayObserver> _gateways = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _urls = new(StringComparer.Ordinal);
    private long _sequence;

    public Task AddGateway(string gatewayId, IGatewayObserver gateway, string? url)
    {
        _gateways[gatewayId] = gateway;
        if (url is null)
        {
            _urls.Remove(gatewayId);
        }
        else
        {
            _urls[gatewayId] = url;
        }

        KeepAlive = true;
        return Task.CompletedTask;
    }

    public Task<string?> GatewayUrl(string gatewayId) => Task.FromResult(_urls.GetValueOrDefault(gatewayId));

    public Task RemoveGateway(string gatewayId)
    {
        _gateways.Remove(gatewayId);
        _urls.Remove(gatewayId);
        KeepAlive = _gateways.Count > 0;
        return Task.CompletedTask;
    }

    public Task OnNodesDeparted(IReadOnlyList<string> nodes)
    {
        foreach (var node in nodes)
        {
            _gateways.Remove(node);
            _urls.Remove(node);
        }

        KeepAlive = _gateways.Count > 0;
        return Task.CompletedTask;
    }

    public Task<int> ServerEmit(string eventName, System.Text.Json.JsonElement data, string from)
    {
        var sent = 0;
        foreach (var (gatewayId, gateway) in _gateways)
        {
            if (gatewayId != from)
            {
                _ = gateway.ServerEvent(GetPrimaryKeyString(), eventName, data, from);
                sent++;
            }
        }

        return Task.FromResult(sent);
    }

    public Task<long> Publish(SerializedPayload payload, IReadOnlyList<string>? except)
    {
        var sequence = ++_sequence;
        var delivery = new Delivery(GetPrimaryKeyString(), DeliveryTarget.Hub, GetPrimaryKeyString(), sequence, payload, except);
        foreach (var gateway in _gateways.Values)
        {
            _ = gateway.Deliver(delivery);
        }

        return Task.FromResult(sequence);
    }
}
