using System.Collections.Concurrent;
using System.Reflection;

namespace Realtime.Runtime.Internal.Invocation;

/// <summary>
/// What the runtime knows about one grain or observer interface: its grain type name and its methods, each with a
/// stable id. Ids come from the methods' signatures in ordinal order, so every node that loads the same contract
/// assembly agrees on them without exchanging names.
/// </summary>
internal sealed class GrainInterface
{
    private static readonly ConcurrentDictionary<Type, GrainInterface> Cache = new();
    private static readonly ConcurrentDictionary<uint, GrainInterface> ById = new();

    private readonly Dictionary<MethodInfo, GrainMethod> _byMethodInfo;

    private GrainInterface(Type type)
    {
        InterfaceType = type;
        Id = StableHash.Fnv1a32(type.FullName!);
        IsObserver = typeof(IGrainObserver).IsAssignableFrom(type);
        GrainType = type.GetCustomAttribute<GrainTypeAttribute>()?.Name ?? DefaultGrainType(type);

        var methods = new[] { type }
            .Concat(type.GetInterfaces())
            .SelectMany(i => i.GetMethods())
            .Where(m => !m.IsStatic && m.IsAbstract)
            .OrderBy(Signature, StringComparer.Ordinal)
            .ToArray();

        Methods = new GrainMethod[methods.Length];
        _byMethodInfo = new Dictionary<MethodInfo, GrainMethod>(methods.Length);
        for (var i = 0; i < methods.Length; i++)
        {
            var method = new GrainMethod(this, i, methods[i]);
            Methods[i] = method;
            _byMethodInfo[methods[i]] = method;
        }
    }

    public Type InterfaceType { get; }

    /// <summary>Names the interface on the wire: a hash of its full name, the same on every node.</summary>
    public uint Id { get; }

    public string GrainType { get; }

    public bool IsObserver { get; }

    public GrainMethod[] Methods { get; }

    public static GrainInterface Get(Type interfaceType)
    {
        if (Cache.TryGetValue(interfaceType, out var known))
        {
            return known;
        }

        if (!interfaceType.IsInterface || !(typeof(IGrain).IsAssignableFrom(interfaceType) || typeof(IGrainObserver).IsAssignableFrom(interfaceType)))
        {
            throw new ArgumentException($"{interfaceType} is not a grain or observer interface (it must be an interface deriving from IGrain or IGrainObserver).");
        }

        var created = Cache.GetOrAdd(interfaceType, static t => new GrainInterface(t));
        if (ById.GetOrAdd(created.Id, created) is var existing && existing != created)
        {
            throw new InvalidOperationException($"{existing.InterfaceType} and {interfaceType} have the same wire id {created.Id}; rename one of them.");
        }

        return created;
    }

    /// <summary>Finds an interface by its wire id, loading every grain interface of the loaded assemblies on a miss.</summary>
    public static bool TryGet(uint id, out GrainInterface grainInterface)
    {
        if (ById.TryGetValue(id, out grainInterface!))
        {
            return true;
        }

        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.IsDynamic)
            {
                continue;
            }

            Type[] types;
            try
            {
                types = assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException ex)
            {
                types = ex.Types.Where(t => t is not null).ToArray()!;
            }

            foreach (var type in types)
            {
                if (type.IsInterface && !type.IsGenericType && type != typeof(IGrain) && type != typeof(IGrainWithStringKey) && type != typeof(IGrainObserver) &&
                    (typeof(IGrain).IsAssignableFrom(type) || typeof(IGrainObserver).IsAssignableFrom(type)) && StableHash.Fnv1a32(type.FullName!) == id)
                {
                    grainInterface = Get(type);
                    return true;
                }
            }
        }

        return false;
    }

    public GrainMethod GetMethod(MethodInfo method) =>
        _byMethodInfo.TryGetValue(method, out var found)
            ? found
            : throw new InvalidOperationException($"{method.DeclaringType}.{method.Name} is not a method of {InterfaceType}.");

    public GrainMethod GetMethod(int id) =>
        (uint)id < (uint)Methods.Length
            ? Methods[id]
            : throw new InvalidOperationException($"{InterfaceType} has no method with id {id}.");

    public override string ToString() => InterfaceType.Name;

    private static string DefaultGrainType(Type type)
    {
        // IRoomGrain -> "room": short, readable in logs, and stable as long as the interface keeps its name.
        var name = type.Name;
        if (name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]))
        {
            name = name[1..];
        }

        if (name.EndsWith("Grain", StringComparison.Ordinal) && name.Length > "Grain".Length)
        {
            name = name[..^"Grain".Length];
        }

        return name.ToLowerInvariant();
    }

    private static string Signature(MethodInfo m) =>
        $"{m.DeclaringType!.FullName}.{m.Name}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.FullName))})";
}
