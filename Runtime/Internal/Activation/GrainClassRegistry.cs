using System.Reflection;
using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Invocation;

namespace Realtime.Runtime.Internal.Activation;

/// <summary>A grain class and what the runtime needs to know about it.</summary>
internal sealed class GrainClass(string grainType, Type type, TimeSpan collectionAge)
{
    public string GrainType { get; } = grainType;

    public Type Type { get; } = type;

    public bool IsReentrant { get; } = type.GetCustomAttribute<ReentrantAttribute>() is not null;

    public bool IsNodeAware { get; } = typeof(IClusterNodeAware).IsAssignableFrom(type);

    public TimeSpan CollectionAge { get; } = type.GetCustomAttribute<CollectionAgeAttribute>()?.Age ?? collectionAge;
}

/// <summary>Maps grain type names to the classes that implement them, from the registrations made at start-up.</summary>
internal sealed class GrainClassRegistry
{
    private readonly Dictionary<string, GrainClass> _classes = new(StringComparer.Ordinal);

    public GrainClassRegistry(IEnumerable<GrainRegistration> registrations, Microsoft.Extensions.Options.IOptions<GrainRuntimeOptions> options)
    {
        foreach (var registration in registrations)
        {
            var grainInterface = GrainInterface.Get(registration.InterfaceType);
            if (!typeof(Grain).IsAssignableFrom(registration.ClassType) || !registration.InterfaceType.IsAssignableFrom(registration.ClassType))
            {
                throw new InvalidOperationException($"{registration.ClassType} must derive from Grain and implement {registration.InterfaceType}.");
            }

            if (_classes.TryGetValue(grainInterface.GrainType, out var existing) && existing.Type != registration.ClassType)
            {
                throw new InvalidOperationException(
                    $"Grain type '{grainInterface.GrainType}' is implemented by both {existing.Type} and {registration.ClassType}; name one of the interfaces with [GrainType].");
            }

            _classes[grainInterface.GrainType] = new GrainClass(grainInterface.GrainType, registration.ClassType, options.Value.CollectionAge);
        }
    }

    public bool TryGet(string grainType, out GrainClass grainClass) => _classes.TryGetValue(grainType, out grainClass!);
}
