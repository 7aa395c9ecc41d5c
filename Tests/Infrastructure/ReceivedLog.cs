using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Infrastructure;

/// <summary>What a test client received from the server, in order, with waits on it that have a deadline.</summary>
public sealed class ReceivedLog(string owner)
{
    private readonly List<ReceivedInvocation> _received = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Add(ReceivedInvocation invocation)
    {
        lock (_received)
        {
            _received.Add(invocation);
        }

        Changed();
    }

    /// <summary>Wakes the waits, to look again (the connection closed, say).</summary>
    public void Changed()
    {
        lock (_received)
        {
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>Everything received so far on <paramref name="target"/>.</summary>
    public IReadOnlyList<ReceivedInvocation> On(string target)
    {
        lock (_received)
        {
            return _received.Where(r => r.Target == target).ToArray();
        }
    }

    /// <summary>Waits until <paramref name="count"/> invocations on <paramref name="target"/> matching <paramref name="match"/> arrived.</summary>
    public async Task<IReadOnlyList<ReceivedInvocation>> WaitForAsync(string target, Func<ReceivedInvocation, bool>? match = null, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Eventually.DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_received)
            {
                var found = _received.Where(r => r.Target == target && (match?.Invoke(r) ?? true)).ToArray();
                if (found.Length >= count)
                {
                    return found;
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                throw new TimeoutException($"{owner} did not receive {count} '{target}' invocation(s) in time; it has {On(target).Count}.");
            }
        }
    }

    /// <summary>The 'event' messages of the RealtimeHub received so far, as (event, data-as-text, room) tuples.</summary>
    public IReadOnlyList<(string Event, string Data, string? Room)> Events() =>
        On("event").Select(r => (
            r.Arguments[0].GetProperty("event").GetString()!,
            r.Arguments[0].GetProperty("data").ToString(),
            r.Arguments[0].GetProperty("room").GetString())).ToArray();
}
