using System.Collections.Concurrent;
using Orleans.Runtime;

namespace Realtime.Gateway.Core;

/// <summary>
/// Grain references made without the reflection of Orleans' <c>GetGrain&lt;T&gt;(string)</c>, which reads the
/// interface's attributes on every call to find its <see cref="GrainInterfaceType"/> (measured: 4.7 % of a gateway's
/// CPU in the socket.io room fan-out, one reference per emit). The first reference of an interface is made that way,
/// and its grain type and interface type are kept; every later one is made from its grain id. For the gateway, a
/// silo, which knows every grain type from the start (a client's type map may not be there yet).
/// </summary>
internal sealed class GrainReferences(IGrainFactory grains)
{
    // Per interface: its grain type and interface type, or null for a factory whose grains are not grain references
    // (the core's unit tests fake the cluster).
    private readonly ConcurrentDictionary<Type, (GrainType Grain, GrainInterfaceType Interface)?> _types = new();

    public T Get<T>(string key)
        where T : IGrainWithStringKey
    {
        if (_types.TryGetValue(typeof(T), out var types))
        {
            return types is { } known ? (T)grains.GetGrain(GrainId.Create(known.Grain, key), known.Interface) : grains.GetGrain<T>(key);
        }

        var grain = grains.GetGrain<T>(key);
        _types[typeof(T)] = grain is GrainReference reference ? (reference.GrainId.Type, reference.InterfaceType) : null;
        return grain;
    }
}
