namespace Realtime.Gateway.LifetimeManager;

/// <summary>
/// The SignalR connections that got messages in the burst of grain calls this thread is delivering (see
/// <see cref="Realtime.Runtime.IBurstAwareObserver"/>). While a burst is open their messages wait; at its end each
/// connection writes all of its messages at once, with one flush, so a member of a busy room gets them in one
/// WebSocket frame and one send instead of one each. Per thread: a burst opens and ends without an await in between.
/// </summary>
internal static class WriteBurst
{
    [ThreadStatic]
    private static bool _open;

    [ThreadStatic]
    private static List<SignalRConnection>? _connections;

    public static bool IsOpen => _open;

    /// <summary>Opens a burst on this thread; only the grain runtime's observer calls do, as it promises to end it.</summary>
    public static void Open() => _open = true;

    public static void Add(SignalRConnection connection) => (_connections ??= []).Add(connection);

    /// <summary>Closes the burst and writes what every connection in it has waiting.</summary>
    public static void Close()
    {
        _open = false;
        if (_connections is not { Count: > 0 } connections)
        {
            return;
        }

        _connections = null;
        foreach (var connection in connections)
        {
            connection.WritePending();
        }

        connections.Clear();
        _connections ??= connections;
    }
}
