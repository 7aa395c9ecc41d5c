using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;

namespace Realtime.Runtime.Internal.Messaging;

/// <summary>
/// Requests in flight by correlation id. One periodic scan on the runtime's clock fails the calls that waited longer
/// than <see cref="GrainRuntimeOptions.ResponseTimeout"/>, instead of a timer per call.
/// </summary>
internal sealed class CallbackRegistry : IDisposable
{
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly ITimer _scan;
    private long _nextId;

    public CallbackRegistry(TimeProvider time, IOptions<GrainRuntimeOptions> options)
    {
        _time = time;
        _timeout = options.Value.ResponseTimeout;
        var period = TimeSpan.FromTicks(Math.Clamp(_timeout.Ticks / 4, TimeSpan.FromMilliseconds(10).Ticks, TimeSpan.FromSeconds(1).Ticks));
        _scan = time.CreateTimer(static s => ((CallbackRegistry)s!).FailExpired(), this, period, period);
    }

    public DateTimeOffset Now => _time.GetUtcNow();

    public long Register(PendingCall call)
    {
        var id = Interlocked.Increment(ref _nextId);
        _pending[id] = call;
        return id;
    }

    public void Complete(long id, object? result, Exception? exception)
    {
        if (!_pending.TryRemove(id, out var call))
        {
            return; // timed out already, or answered twice
        }

        if (exception is null)
        {
            call.Complete(result);
        }
        else
        {
            call.Fail(exception);
        }
    }

    /// <summary>The method of a pending call, to decode its response; null when the call is no longer waiting.</summary>
    public Invocation.GrainMethod? MethodOf(long id) => _pending.TryGetValue(id, out var call) ? call.Method : null;

    public void SetDestination(long id, string node)
    {
        if (_pending.TryGetValue(id, out var call))
        {
            call.SentTo = node;
        }
    }

    /// <summary>Fails the calls waiting on <paramref name="node"/>: what was in flight to a lost node is reported lost.</summary>
    public void FailSentTo(string node, Func<PendingCall, Exception> reason)
    {
        foreach (var (id, call) in _pending)
        {
            if (call.SentTo == node && _pending.TryRemove(id, out _))
            {
                call.Fail(reason(call));
            }
        }
    }

    public void FailAll(Func<PendingCall, Exception> reason)
    {
        foreach (var (id, call) in _pending)
        {
            if (_pending.TryRemove(id, out _))
            {
                call.Fail(reason(call));
            }
        }
    }

    public void Dispose() => _scan.Dispose();

    private void FailExpired()
    {
        var now = _time.GetUtcNow();
        foreach (var (id, call) in _pending)
        {
            if (now - call.SentAt >= _timeout && _pending.TryRemove(id, out _))
            {
                call.Fail(new TimeoutException(
                    $"{call.Method} on {call.Target} timed out after {_timeout.TotalSeconds:0.###} s (Runtime:ResponseTimeout). " +
                    "The grain may be busy, in a call cycle with a non-reentrant grain, or on a node that is gone."));
            }
        }
    }
}
