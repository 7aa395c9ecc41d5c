namespace Realtime.Runtime;

/// <summary>Creates references to grains and to observers. References are cheap, can be stored, and are valid anywhere.</summary>
public interface IGrainFactory
{
    /// <summary>Returns a reference to the grain with the given key; the activation is created on its first call.</summary>
    TGrainInterface GetGrain<TGrainInterface>(string key) where TGrainInterface : IGrainWithStringKey;

    /// <summary>Makes a local object callable by grains; pass the returned reference to them.</summary>
    TObserver CreateObjectReference<TObserver>(TObserver observer) where TObserver : class, IGrainObserver;

    /// <summary>Stops routing calls to an observer created by <see cref="CreateObjectReference{TObserver}"/>.</summary>
    void DeleteObjectReference<TObserver>(TObserver reference) where TObserver : class, IGrainObserver;
}

/// <summary>Helpers on grain and observer references.</summary>
public static class GrainReferenceExtensions
{
    /// <summary>The identity behind a reference returned by <see cref="IGrainFactory"/>.</summary>
    public static GrainId GetGrainId(this object reference) =>
        reference is Internal.Invocation.IGrainIdentity r
            ? r.GrainId
            : throw new ArgumentException($"{reference.GetType()} is not a grain or observer reference.", nameof(reference));
}
