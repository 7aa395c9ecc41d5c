using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;

namespace Realtime.Runtime.Internal.Activation;

/// <summary>Every <see cref="GrainRuntimeOptions.CollectionQuantum"/>, deactivates the activations that have been idle too long.</summary>
internal sealed class ActivationCollector(Catalog catalog, TimeProvider timeProvider, IOptions<GrainRuntimeOptions> options) : IDisposable
{
    private ITimer? _timer;

    public void Start()
    {
        var quantum = options.Value.CollectionQuantum;
        _timer = timeProvider.CreateTimer(static s => ((Catalog)s!).CollectIdle(), catalog, quantum, quantum);
    }

    public void Dispose() => _timer?.Dispose();
}
