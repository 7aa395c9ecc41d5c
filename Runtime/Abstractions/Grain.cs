using Realtime.Runtime.Internal.Activation;

namespace Realtime.Runtime;

/// <summary>
/// Base class of grain implementations. The runtime creates one activation per identity and runs its calls one turn
/// at a time, so grain code needs no locks. Keep awaits on the grain's scheduler (no <c>ConfigureAwait(false)</c>).
/// </summary>
public abstract class Grain
{
    private ActivationData? _activation;

    internal ActivationData Activation
    {
        get => _activation ?? throw new InvalidOperationException("The grain is not activated yet: use OnActivateAsync, not the constructor.");
        set => _activation = value;
    }

    /// <summary>The identity of this activation.</summary>
    public GrainId GrainId => Activation.GrainId;

    /// <summary>Creates references to other grains.</summary>
    protected IGrainFactory GrainFactory => Activation.GrainFactory;

    /// <summary>The clock of the runtime; tests replace it.</summary>
    protected TimeProvider TimeProvider => Activation.TimeProvider;

    /// <summary>The string key of this grain.</summary>
    protected string GetPrimaryKeyString() => Activation.GrainId.Key;

    /// <summary>While true the activation is never collected for being idle.</summary>
    protected bool KeepAlive
    {
        get => Activation.KeepAlive;
        set => Activation.KeepAlive = value;
    }

    /// <summary>Called once before the first call is delivered.</summary>
    public virtual Task OnActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called once after the last call; the activation receives no more calls.</summary>
    public virtual Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Deactivates this activation after the current turn; a later call creates a new one.</summary>
    protected void DeactivateOnIdle() => Activation.RequestDeactivation(DeactivationReason.Requested);

    /// <summary>
    /// Runs <paramref name="callback"/> as a turn of this activation after <paramref name="dueTime"/> and then every
    /// <paramref name="period"/> (<see cref="Timeout.InfiniteTimeSpan"/> for once). A tick is skipped while the previous
    /// one is still queued or running. The timer ends with the activation or when disposed.
    /// </summary>
    protected IDisposable RegisterTimer(Func<object?, Task> callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        Activation.RegisterTimer(callback, state, dueTime, period);
}
