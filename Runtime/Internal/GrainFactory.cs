using Realtime.Runtime.Internal.Invocation;
using Realtime.Runtime.Internal.Messaging;
using Realtime.Runtime.Internal.Observers;

namespace Realtime.Runtime.Internal;

internal sealed class GrainFactory(RuntimeClient runtime, ObserverRegistry observers) : IGrainFactory
{
    public TGrainInterface GetGrain<TGrainInterface>(string key) where TGrainInterface : IGrainWithStringKey
    {
        ArgumentNullException.ThrowIfNull(key);
        var grainInterface = GrainInterface.Get(typeof(TGrainInterface));
        return (TGrainInterface)GrainReference.Create(runtime, grainInterface, new GrainId(grainInterface.GrainType, key));
    }

    public TObserver CreateObjectReference<TObserver>(TObserver observer) where TObserver : class, IGrainObserver
    {
        ArgumentNullException.ThrowIfNull(observer);
        var grainInterface = GrainInterface.Get(typeof(TObserver));
        return (TObserver)GrainReference.Create(runtime, grainInterface, observers.Register(observer));
    }

    public void DeleteObjectReference<TObserver>(TObserver reference) where TObserver : class, IGrainObserver =>
        observers.Unregister(reference.GetGrainId());
}
