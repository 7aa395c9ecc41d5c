namespace Realtime.Runtime;

/// <summary>Marker for every grain interface.</summary>
public interface IGrain;

/// <summary>A grain interface whose identity is a string key.</summary>
public interface IGrainWithStringKey : IGrain;

/// <summary>
/// An object outside the grain runtime (a gateway, a service) that grains call back.
/// Observer calls are not turn-based: implementations must be thread-safe.
/// </summary>
public interface IGrainObserver;

/// <summary>
/// An observer that wants to do its work for a burst of calls at once. The runtime hands the calls that one read from
/// a node-to-node connection brought in to their observers one after another, on one thread, and then calls
/// <see cref="OnCallsDelivered"/> on that thread, once per observer that got any; a call that arrives any other way
/// (inside the process) is followed by <see cref="OnCallsDelivered"/> straight away. Work an observer defers from its
/// methods to <see cref="OnCallsDelivered"/> (such as flushing sockets) is therefore never left waiting.
/// </summary>
public interface IBurstAwareObserver : IGrainObserver
{
    /// <summary>The calls delivered to this observer on this thread since the last time are all it gets for now.</summary>
    void OnCallsDelivered();
}

/// <summary>Names the grain type of a grain interface; the name is part of every <see cref="GrainId"/> and of the wire format.</summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Every call to this grain may interleave with others at await points (turns still never run in parallel).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ReentrantAttribute : Attribute;

/// <summary>Calls to this interface method may interleave with any other call to the grain.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>The caller does not wait for this method: no response is sent, and failures are only logged.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OneWayAttribute : Attribute;

/// <summary>Overrides the idle age after which activations of this grain class are collected.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class CollectionAgeAttribute(int seconds) : Attribute
{
    public TimeSpan Age { get; } = TimeSpan.FromSeconds(seconds);
}

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReason
{
    /// <summary>It was idle for longer than its collection age.</summary>
    Idle,
    /// <summary>The grain asked for it with <see cref="Grain.DeactivateOnIdle"/>.</summary>
    Requested,
    /// <summary>The runtime is stopping.</summary>
    ShuttingDown,
    /// <summary>The hash ring moved the grain to another silo.</summary>
    PlacementChanged,
}
