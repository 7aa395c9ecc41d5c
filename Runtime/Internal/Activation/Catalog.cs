using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Activation;

/// <summary>
/// The activations of this node by identity. Delivering a message to an identity that has none creates it; the
/// dictionary's atomic add is what guarantees a single activation per identity under concurrent first calls.
/// </summary>
internal sealed class Catalog
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly GrainClassRegistry _classes;
    private readonly IServiceProvider _services;
    private TaskCompletionSource? _emptied;
    private IMessageRouter? _router;

    public Catalog(
        GrainClassRegistry classes,
        IServiceProvider services,
        RuntimeClient runtime,
        TimeProvider timeProvider,
        IOptions<GrainRuntimeOptions> options,
        ILogger<Catalog> logger)
    {
        _classes = classes;
        _services = services;
        Runtime = runtime;
        TimeProvider = timeProvider;
        Options = options.Value;
        Logger = logger;
    }

    public RuntimeClient Runtime { get; }

    public TimeProvider TimeProvider { get; }

    public GrainRuntimeOptions Options { get; }

    public ILogger Logger { get; }

    public IGrainFactory GrainFactory => field ??= _services.GetRequiredService<IGrainFactory>();

    public int Count => _activations.Count;

    public void Deliver(Message message)
    {
        if (!_classes.TryGet(message.Target.Type, out var grainClass))
        {
            Runtime.Respond(message, null, new GrainCallException(
                $"No grain class is registered for grain type '{message.Target.Type}' ({message.Method}); register it with AddGrain<TInterface, TGrain>()."));
            return;
        }

        var item = WorkItem.ForMessage(message, grainClass.IsReentrant);
        while (true)
        {
            var activation = _activations.GetOrAdd(
                message.Target,
                static (id, state) => new ActivationData(id, state.grainClass, state.catalog),
                (grainClass, catalog: this));
            if (activation.TryEnqueue(item))
            {
                return;
            }

            // It was deactivated between the lookup and the enqueue: drop the stale entry and try again.
            _activations.TryRemove(KeyValuePair.Create(message.Target, activation));
        }
    }

    /// <summary>Routes a message again, after the activation it was queued at went away.</summary>
    public void Reroute(Message message) => (_router ??= _services.GetRequiredService<IMessageRouter>()).Route(message);

    /// <summary>
    /// Applies a new membership view: activations whose owner is now another silo deactivate (their queued calls
    /// follow them), and node-aware grains hear which nodes departed.
    /// </summary>
    public void OnViewChanged(Membership.MembershipView before, Membership.MembershipView after, string self)
    {
        var departed = after.DepartedSince(before).Select(e => e.Name).ToArray();
        foreach (var activation in _activations.Values)
        {
            var owner = after.Ring.Owner(activation.GrainId);
            if (owner is not null && owner != self)
            {
                activation.RequestDeactivation(DeactivationReason.PlacementChanged);
            }
            else if (departed.Length > 0 && activation.Class.IsNodeAware)
            {
                activation.TryEnqueue(WorkItem.ForCallback(grain => ((IClusterNodeAware)grain).OnNodesDeparted(departed)));
            }
        }
    }

    public Grain CreateGrain(ActivationData activation)
    {
        var grain = (Grain)ActivatorUtilities.CreateInstance(_services, activation.Class.Type);
        grain.Activation = activation;
        return grain;
    }

    public void Remove(ActivationData activation)
    {
        _activations.TryRemove(KeyValuePair.Create(activation.GrainId, activation));
        if (_activations.IsEmpty)
        {
            Volatile.Read(ref _emptied)?.TrySetResult();
        }
    }

    /// <summary>Deactivates every activation that has been idle for its collection age.</summary>
    public int CollectIdle()
    {
        var now = TimeProvider.GetUtcNow();
        var collected = 0;
        foreach (var activation in _activations.Values)
        {
            if (activation.IsIdle(now))
            {
                activation.RequestDeactivation(DeactivationReason.Idle);
                collected++;
            }
        }

        return collected;
    }

    /// <summary>Deactivates everything, waiting up to <paramref name="timeout"/> for it to finish.</summary>
    public async Task DeactivateAllAsync(TimeSpan timeout)
    {
        var emptied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _emptied, emptied);
        foreach (var activation in _activations.Values)
        {
            activation.RequestDeactivation(DeactivationReason.ShuttingDown);
        }

        if (_activations.IsEmpty)
        {
            return;
        }

        // Real time on purpose: shutdown must end even when a test has frozen the runtime's clock.
        await Task.WhenAny(emptied.Task, Task.Delay(timeout));
    }
}
