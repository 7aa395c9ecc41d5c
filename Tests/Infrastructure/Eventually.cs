namespace Realtime.Tests.Infrastructure;

/// <summary>Waits on conditions with a deadline instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task True(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Polls <paramref name="value"/> until it gives something; fails with <paramref name="what"/> at the deadline.</summary>
    public static async Task<T> Value<T>(Func<T?> value, string what, TimeSpan? timeout = null)
        where T : class
    {
        T? found = null;
        await True(() => (found = value()) is not null, what, timeout);
        return found!;
    }

    /// <summary>Polls an asynchronous <paramref name="condition"/> until it holds; each poll has its own deadline too.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (!await condition().Within(what, timeout))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Polls an asynchronous <paramref name="condition"/> on a cluster that is recovering: a poll that fails with
    /// Orleans' errors or takes longer than <paramref name="perPoll"/> (a call to a silo that just died) counts as
    /// "not yet" instead of ending the wait.
    /// </summary>
    public static async Task TrueWhileRecovering(Func<Task<bool>> condition, string what, TimeSpan timeout, TimeSpan? perPoll = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await condition().Within(what, perPoll ?? TimeSpan.FromSeconds(3)))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException)
            {
                last = ex;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}." + (last is null ? "" : $" The last poll failed: {last.Message}"), last);
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// Calls <paramref name="action"/> until it succeeds, as long as it fails with what a cluster says while it
    /// recovers (Orleans' errors, timeouts); returns its result.
    /// </summary>
    public static async Task<T> Succeeds<T>(Func<Task<T>> action, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            try
            {
                return await action().Within(what);
            }
            catch (Exception ex) when (ex is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Awaits <paramref name="task"/> with a deadline, naming what was awaited when it fails.</summary>
    public static async Task<T> Within<T>(this Task<T> task, string what, TimeSpan? timeout = null)
    {
        await ((Task)task).Within(what, timeout);
        return await task;
    }

    /// <summary>Awaits <paramref name="task"/> with a deadline; the task's own exceptions pass through unchanged.</summary>
    public static async Task Within(this Task task, string what, TimeSpan? timeout = null)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout ?? DefaultTimeout)) != task)
        {
            throw new TimeoutException($"Timed out waiting for {what}.");
        }

        await task;
    }
}
