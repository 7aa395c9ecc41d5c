using Microsoft.Extensions.Logging;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Activation;

/// <summary>
/// One activation: the grain instance, its queue of work and its lifecycle (created, activating, valid, deactivating,
/// invalid). A pump drains the queue on the activation's own scheduler; a work item that does not interleave runs to
/// completion before the next one starts, which is what makes grain code single-threaded and free of interleaving.
/// </summary>
internal sealed class ActivationData
{
    private readonly object _lock = new();
    private readonly Queue<WorkItem> _queue = new();
    private readonly Catalog _catalog;
    private readonly ActivationTaskScheduler _scheduler = new();
    private ActivationState _state;
    private bool _pumping;
    private int _interleaved;
    private TaskCompletionSource? _interleavedDrained;
    private bool _deactivationQueued;
    private Grain? _grain;
    private List<GrainTimer>? _timers;
    private DateTimeOffset _lastActive;

    public ActivationData(GrainId grainId, GrainClass grainClass, Catalog catalog)
    {
        GrainId = grainId;
        Class = grainClass;
        _catalog = catalog;
        _lastActive = catalog.TimeProvider.GetUtcNow();
    }

    private enum ActivationState
    {
        Created,
        Activating,
        Valid,
        Deactivating,
        Invalid,
    }

    public GrainId GrainId { get; }

    public GrainClass Class { get; }

    public IGrainFactory GrainFactory => _catalog.GrainFactory;

    public TimeProvider TimeProvider => _catalog.TimeProvider;

    public bool KeepAlive { get; set; }

    /// <summary>Queues work; false when the activation is gone and the caller must find or create another.</summary>
    public bool TryEnqueue(WorkItem item)
    {
        var startPump = false;
        var startNow = false;
        lock (_lock)
        {
            if (_state == ActivationState.Invalid)
            {
                return false;
            }

            if (item.Kind == WorkKind.Message)
            {
                _lastActive = TimeProvider.GetUtcNow();
            }

            if (item.Interleave && _state == ActivationState.Valid && _pumping)
            {
                // The pump is inside a turn that awaits; this item may start beside it.
                _interleaved++;
                startNow = true;
            }
            else
            {
                _queue.Enqueue(item);
                startPump = !_pumping;
                _pumping = true;
            }
        }

        if (startNow)
        {
            Task.Factory.StartNew(
                static s =>
                {
                    var (activation, work) = ((ActivationData, WorkItem))s!;
                    _ = activation.RunInterleavedAsync(work);
                },
                (this, item),
                CancellationToken.None,
                TaskCreationOptions.DenyChildAttach,
                _scheduler);
        }
        else if (startPump)
        {
            Task.Factory.StartNew(static s => ((ActivationData)s!).PumpAsync(), this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _scheduler);
        }

        return true;
    }

    public void RequestDeactivation(DeactivationReason reason)
    {
        lock (_lock)
        {
            if (_deactivationQueued || _state is ActivationState.Deactivating or ActivationState.Invalid)
            {
                return;
            }

            _deactivationQueued = true;
        }

        TryEnqueue(WorkItem.ForDeactivation(reason));
    }

    /// <summary>True when nothing is queued or running and the activation was last called at least its collection age ago.</summary>
    public bool IsIdle(DateTimeOffset now)
    {
        lock (_lock)
        {
            return IsIdleLocked(now);
        }
    }

    public IDisposable RegisterTimer(Func<object?, Task> callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new GrainTimer(this, callback, state, dueTime, period);
        lock (_lock)
        {
            (_timers ??= []).Add(timer);
        }

        return timer;
    }

    public void RemoveTimer(GrainTimer timer)
    {
        lock (_lock)
        {
            _timers?.Remove(timer);
        }
    }

    public override string ToString() => $"Activation {GrainId} ({_state})";

    private bool IsIdleLocked(DateTimeOffset now) =>
        _state == ActivationState.Valid && !_pumping && _queue.Count == 0 && _interleaved == 0 && !KeepAlive &&
        now - _lastActive >= Class.CollectionAge;

    private async Task PumpAsync()
    {
        if (_state == ActivationState.Created && !await ActivateAsync())
        {
            return;
        }

        List<WorkItem>? besides = null;
        while (true)
        {
            WorkItem item;
            lock (_lock)
            {
                if (_state == ActivationState.Invalid)
                {
                    _pumping = false;
                    break;
                }

                if (!_queue.TryDequeue(out item))
                {
                    _pumping = false;
                    return;
                }

                if (item.Interleave)
                {
                    _interleaved++;
                }
                else
                {
                    besides = TakeInterleavingLocked();
                }
            }

            if (item.Interleave)
            {
                _ = RunInterleavedAsync(item);
            }
            else
            {
                // Items queued while the activation was busy or activating that may interleave must not wait behind this turn.
                if (besides is not null)
                {
                    foreach (var other in besides)
                    {
                        _ = RunInterleavedAsync(other);
                    }

                    besides = null;
                }

                await ExecuteAsync(item);
            }
        }

        // Deactivated with work still queued: hand it back to the catalog, which creates a new activation.
        ForwardQueued();
    }

    private List<WorkItem>? TakeInterleavingLocked()
    {
        List<WorkItem>? taken = null;
        for (var remaining = _queue.Count; remaining > 0; remaining--)
        {
            var queued = _queue.Dequeue();
            if (queued.Interleave)
            {
                (taken ??= []).Add(queued);
                _interleaved++;
            }
            else
            {
                _queue.Enqueue(queued);
            }
        }

        return taken;
    }

    private async Task RunInterleavedAsync(WorkItem item)
    {
        try
        {
            await ExecuteAsync(item);
        }
        finally
        {
            TaskCompletionSource? drained = null;
            lock (_lock)
            {
                if (--_interleaved == 0)
                {
                    drained = _interleavedDrained;
                    _interleavedDrained = null;
                }
            }

            drained?.TrySetResult();
        }
    }

    private async Task<bool> ActivateAsync()
    {
        _state = ActivationState.Activating;
        try
        {
            _grain = _catalog.CreateGrain(this);
            using var cts = new CancellationTokenSource(_catalog.Options.ActivationTimeout, TimeProvider);
            await _grain.OnActivateAsync(cts.Token);
            lock (_lock)
            {
                _state = ActivationState.Valid;
            }

            return true;
        }
        catch (Exception ex)
        {
            RuntimeLog.ActivationFailed(_catalog.Logger, GrainId, ex);
            List<WorkItem> failed;
            lock (_lock)
            {
                _state = ActivationState.Invalid;
                _pumping = false;
                failed = [.. _queue];
                _queue.Clear();
            }

            _catalog.Remove(this);
            var error = new GrainCallException($"Activation of {GrainId} failed: {ex.Message}", ex);
            foreach (var item in failed)
            {
                if (item.Message is { } message)
                {
                    _catalog.Runtime.Respond(message, null, error);
                }
            }

            return false;
        }
    }

    private async Task ExecuteAsync(WorkItem item)
    {
        switch (item.Kind)
        {
            case WorkKind.Message:
                await InvokeAsync(item.Message!);
                break;
            case WorkKind.Timer:
                try
                {
                    await item.Timer!.RunAsync();
                }
                catch (Exception ex)
                {
                    RuntimeLog.TimerFailed(_catalog.Logger, GrainId, ex);
                }

                break;
            case WorkKind.Deactivate:
                await DeactivateAsync(item.Reason);
                break;
            case WorkKind.Callback:
                if (_grain is not null)
                {
                    try
                    {
                        await item.Callback!(_grain);
                    }
                    catch (Exception ex)
                    {
                        RuntimeLog.TimerFailed(_catalog.Logger, GrainId, ex);
                    }
                }

                break;
        }
    }

    private async Task InvokeAsync(Message message)
    {
        object? result = null;
        Exception? exception = null;
        try
        {
            result = await message.Method!.Invoke(_grain!, message.Arguments);
        }
        catch (Exception ex)
        {
            exception = ex;
            if (message.Kind == MessageKind.OneWay)
            {
                RuntimeLog.OneWayCallFailed(_catalog.Logger, message.Method!.ToString(), GrainId, ex);
            }
        }

        lock (_lock)
        {
            _lastActive = TimeProvider.GetUtcNow();
        }

        _catalog.Runtime.Respond(message, result, exception);
    }

    private async Task DeactivateAsync(DeactivationReason reason)
    {
        Task? drained = null;
        lock (_lock)
        {
            _deactivationQueued = false;
            if (_state != ActivationState.Valid || (reason == DeactivationReason.Idle && !IsIdleForCollection()))
            {
                return; // called again since the collector looked: it stays
            }

            _state = ActivationState.Deactivating;
            if (_interleaved > 0)
            {
                _interleavedDrained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                drained = _interleavedDrained.Task;
            }
        }

        if (drained is not null)
        {
            await drained;
        }

        try
        {
            using var cts = new CancellationTokenSource(_catalog.Options.DeactivationTimeout, TimeProvider);
            await _grain!.OnDeactivateAsync(reason, cts.Token);
        }
        catch (Exception ex)
        {
            RuntimeLog.DeactivationFailed(_catalog.Logger, GrainId, ex);
        }

        GrainTimer[] timers;
        lock (_lock)
        {
            timers = _timers?.ToArray() ?? [];
            _state = ActivationState.Invalid;
        }

        foreach (var timer in timers)
        {
            timer.Dispose();
        }

        _catalog.Remove(this);
        RuntimeLog.Deactivated(_catalog.Logger, GrainId, reason);
    }

    // The deactivation item itself is what is running, so the pump counts as idle here.
    private bool IsIdleForCollection() =>
        _queue.Count == 0 && _interleaved == 0 && !KeepAlive && TimeProvider.GetUtcNow() - _lastActive >= Class.CollectionAge;

    private void ForwardQueued()
    {
        List<WorkItem> queued;
        lock (_lock)
        {
            queued = [.. _queue];
            _queue.Clear();
        }

        foreach (var item in queued)
        {
            if (item.Message is { } message)
            {
                _catalog.Reroute(message);
            }
        }
    }
}
