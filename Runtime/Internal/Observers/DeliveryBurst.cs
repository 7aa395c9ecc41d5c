using Microsoft.Extensions.Logging;

namespace Realtime.Runtime.Internal.Observers;

/// <summary>
/// The calls one thread hands to observers in one go (the frames of one read from a node-to-node connection), so
/// that each <see cref="IBurstAwareObserver"/> among their targets hears once, at the end, that the burst is over.
/// State is per thread: a burst begins and ends without an await in between.
/// </summary>
internal static class DeliveryBurst
{
    [ThreadStatic]
    private static int _depth;

    [ThreadStatic]
    private static List<(IBurstAwareObserver Observer, ILogger Logger)>? _touched;

    public static void Begin() => _depth++;

    /// <summary>Ends the thread's burst and tells every observer that got calls in it.</summary>
    public static void End()
    {
        if (--_depth > 0 || _touched is not { Count: > 0 } touched)
        {
            return;
        }

        // The burst is over: a call an observer's OnCallsDelivered causes on this thread is notified at once.
        _touched = null;
        foreach (var (observer, logger) in touched)
        {
            Notify(observer, logger);
        }

        touched.Clear();
        _touched ??= touched;
    }

    /// <summary>
    /// Records that <paramref name="observer"/> got a call: it hears at the end of the thread's burst, or at once when
    /// the thread is not in one. <paramref name="logger"/> reports a failure of the observer's notification.
    /// </summary>
    public static void Delivered(IBurstAwareObserver observer, ILogger logger)
    {
        if (_depth == 0)
        {
            Notify(observer, logger);
            return;
        }

        var touched = _touched ??= [];
        foreach (var (seen, _) in touched)
        {
            if (ReferenceEquals(seen, observer))
            {
                return;
            }
        }

        touched.Add((observer, logger));
    }

    private static void Notify(IBurstAwareObserver observer, ILogger logger)
    {
        try
        {
            observer.OnCallsDelivered();
        }
        catch (Exception ex)
        {
            RuntimeLog.BurstNotificationFailed(logger, observer.GetType().Name, ex);
        }
    }
}
