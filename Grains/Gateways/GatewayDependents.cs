using System.Collections.Concurrent;

namespace Realtime.Grains.Gateways;

/// <summary>
/// Which activations of this silo hold state for which gateway, by hub: what <see cref="DepartedGatewayMonitor"/>
/// reads to tell them when a gateway departs. Grains update it from their turns; the monitor reads it from its own
/// thread, so everything here is thread-safe. One per silo.
/// </summary>
internal sealed class GatewayDependents(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, Dependents>> _hubs = new(StringComparer.Ordinal);

    /// <summary>The hubs with dependents on this silo.</summary>
    public IEnumerable<string> Hubs => _hubs.Keys;

    /// <summary>Records that <paramref name="grain"/> now holds state for <paramref name="gatewayId"/>.</summary>
    public void Add(string hub, string gatewayId, GrainId grain)
    {
        var gateways = _hubs.GetOrAdd(hub, static _ => new(StringComparer.Ordinal));
        while (true)
        {
            var dependents = gateways.GetOrAdd(gatewayId, static (_, now) => new Dependents(now), time.GetUtcNow());
            lock (dependents)
            {
                // A set the monitor took away as departed is no longer in the map: take a fresh one.
                if (!dependents.Taken)
                {
                    dependents.Grains.Add(grain);
                    return;
                }
            }
        }
    }

    /// <summary>Records that <paramref name="grain"/> holds nothing for <paramref name="gatewayId"/> any more.</summary>
    public void Remove(string hub, string gatewayId, GrainId grain)
    {
        if (_hubs.TryGetValue(hub, out var gateways) && gateways.TryGetValue(gatewayId, out var dependents))
        {
            lock (dependents)
            {
                dependents.Grains.Remove(grain);
            }
        }
    }

    /// <summary>The gateways of <paramref name="hub"/> that activations here hold state for, and since when.</summary>
    public IEnumerable<(string GatewayId, DateTimeOffset Since)> Gateways(string hub)
    {
        if (!_hubs.TryGetValue(hub, out var gateways))
        {
            yield break;
        }

        foreach (var (gatewayId, dependents) in gateways)
        {
            yield return (gatewayId, dependents.Since);
        }
    }

    /// <summary>Every activation here that holds state for some gateway (each once).</summary>
    public HashSet<GrainId> All()
    {
        var all = new HashSet<GrainId>();
        foreach (var (_, gateways) in _hubs)
        {
            foreach (var (_, dependents) in gateways)
            {
                lock (dependents)
                {
                    all.UnionWith(dependents.Grains);
                }
            }
        }

        return all;
    }

    /// <summary>Takes away the activations that hold state for a departed gateway.</summary>
    public GrainId[] Take(string hub, string gatewayId)
    {
        if (!_hubs.TryGetValue(hub, out var gateways) || !gateways.TryRemove(gatewayId, out var dependents))
        {
            return [];
        }

        lock (dependents)
        {
            dependents.Taken = true;
            return [.. dependents.Grains];
        }
    }

    private sealed class Dependents(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public HashSet<GrainId> Grains { get; } = [];

        public bool Taken { get; set; }
    }
}
