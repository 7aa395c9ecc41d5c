using Microsoft.Extensions.Options;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// Settings of the socket.io endpoint (configuration section <c>SocketIO</c>): its Engine.IO settings, then socket.io's
/// own; defaults as socket.io's.
/// </summary>
public sealed class SocketIOOptions : Engine.EngineIOOptions
{
    public const string SectionName = "SocketIO";

    /// <summary>Serve socket.io clients at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The Engine.IO path, as the client's <c>path</c> option.</summary>
    public string Path { get; set; } = "/socket.io";

    /// <summary>How long a session may stay without joining a namespace before it is closed.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromMilliseconds(45000);

    /// <summary>Serve the socket.io browser client at <c>{Path}/socket.io.js</c> and <c>{Path}/socket.io.min.js</c>.</summary>
    public bool ServeClient { get; set; } = true;

    /// <summary>How long a server-side <c>EmitWithAckAsync</c> waits by default.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How many of a socket's events may wait for its handlers. At the limit the gateway stops reading the client's
    /// connection (over polling, it holds the answer to its POST) until a handler finishes: a fast client with slow
    /// handlers waits, rather than growing the gateway's memory.
    /// </summary>
    public int MaxQueuedEvents { get; set; } = 256;

    /// <summary>socket.io's connection state recovery (section <c>SocketIO:ConnectionStateRecovery</c>); off by default, as in socket.io.</summary>
    public ConnectionStateRecoveryOptions ConnectionStateRecovery { get; set; } = new();
}

/// <summary>
/// socket.io's connection state recovery: a client that lost its connection and reconnects, to any gateway, within
/// <see cref="MaxDisconnectionDuration"/> gets its socket id, rooms and data back, and every event it missed.
/// </summary>
public sealed class ConnectionStateRecoveryOptions
{
    /// <summary>Recover the state of clients that reconnect (socket.io's <c>connectionStateRecovery</c> option).</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// How long after a disconnection a client can still recover its session (socket.io's
    /// <c>maxDisconnectionDuration</c>). The silos' <c>History:MaxAge</c> and <c>History:MaxMessages</c> must keep
    /// what is sent meanwhile, or the client starts afresh.
    /// </summary>
    public TimeSpan MaxDisconnectionDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Skip the namespace's middleware for a client whose session was recovered (socket.io's <c>skipMiddlewares</c>).</summary>
    public bool SkipMiddlewares { get; set; } = true;
}

internal sealed class SocketIOOptionsValidator : IValidateOptions<SocketIOOptions>
{
    public ValidateOptionsResult Validate(string? name, SocketIOOptions options)
    {
        var failures = new List<string>();
        if (!options.Path.StartsWith('/') || (options.Path.Length > 1 && options.Path.EndsWith('/')))
        {
            failures.Add($"SocketIO:Path must start with '/' and not end with one, not '{options.Path}'.");
        }

        failures.AddRange(options.Failures("SocketIO:"));
        foreach (var (setting, value) in new[] { (nameof(options.ConnectTimeout), options.ConnectTimeout), (nameof(options.AckTimeout), options.AckTimeout) })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"SocketIO:{setting} must be greater than zero, not {value}.");
            }
        }

        if (options.MaxQueuedEvents < 1)
        {
            failures.Add($"SocketIO:MaxQueuedEvents must be at least 1, not {options.MaxQueuedEvents}.");
        }

        if (options.ConnectionStateRecovery is { Enabled: true, MaxDisconnectionDuration: var window } && window <= TimeSpan.Zero)
        {
            failures.Add($"SocketIO:ConnectionStateRecovery:MaxDisconnectionDuration must be greater than zero, not {window}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
