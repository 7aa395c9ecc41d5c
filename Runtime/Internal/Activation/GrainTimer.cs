namespace Realtime.Runtime.Internal.Activation;

/// <summary>A timer whose ticks run as turns of their activation; a tick is skipped while the previous one is pending.</summary>
internal sealed class GrainTimer : IDisposable
{
    private readonly ActivationData _activation;
    private readonly Func<object?, Task> _callback;
    private readonly object? _state;
    private readonly ITimer _timer;
    private int _pending;
    private volatile bool _disposed;

    public GrainTimer(ActivationData activation, Func<object?, Task> callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _activation = activation;
        _callback = callback;
        _state = state;
        _timer = activation.TimeProvider.CreateTimer(static s => ((GrainTimer)s!).OnTick(), this, dueTime, period);
    }

    public async Task RunAsync()
    {
        try
        {
            if (!_disposed)
            {
                await _callback(_state);
            }
        }
        finally
        {
            Volatile.Write(ref _pending, 0);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _timer.Dispose();
        _activation.RemoveTimer(this);
    }

    private void OnTick()
    {
        if (_disposed || Interlocked.Exchange(ref _pending, 1) == 1)
        {
            return;
        }

        if (!_activation.TryEnqueue(WorkItem.ForTimer(this, _activation.Class.IsReentrant)))
        {
            Dispose();
        }
    }
}
