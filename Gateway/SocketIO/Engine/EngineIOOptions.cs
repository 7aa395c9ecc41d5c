namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>
/// Settings of an Engine.IO endpoint: socket.io's (<see cref="SocketIOOptions"/>, from the <c>SocketIO</c> section), or
/// one mapped on its own with <see cref="EngineIOExtensions.MapEngineIO"/>. Defaults as Engine.IO's.
/// </summary>
public class EngineIOOptions
{
    /// <summary>How often the server pings each client (<c>pingInterval</c>).</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromMilliseconds(25000);

    /// <summary>How long the server waits for the pong before it closes the session (<c>pingTimeout</c>).</summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromMilliseconds(20000);

    /// <summary>How long an upgrade from polling to WebSocket may take before the WebSocket is dropped.</summary>
    public TimeSpan UpgradeTimeout { get; set; } = TimeSpan.FromMilliseconds(10000);

    /// <summary>The largest polling request body or WebSocket message, in bytes (<c>maxPayload</c>).</summary>
    public int MaxPayload { get; set; } = 1_000_000;

    /// <summary>The most bytes waiting to be sent to one client before it is disconnected as too slow.</summary>
    public int MaxBufferedBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The transports clients may use: <c>polling</c>, <c>websocket</c>.</summary>
    public string[] Transports { get; set; } = ["polling", "websocket"];

    /// <summary>Origins allowed to call from a browser page of another origin (CORS); <c>*</c> allows any. None by default.</summary>
    public string[] CorsOrigins { get; set; } = [];

    /// <summary>What is wrong with these settings, each naming the setting (after <paramref name="prefix"/>) and its value.</summary>
    internal IEnumerable<string> Failures(string prefix)
    {
        foreach (var (setting, value) in new[]
        {
            (nameof(PingInterval), PingInterval), (nameof(PingTimeout), PingTimeout), (nameof(UpgradeTimeout), UpgradeTimeout),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                yield return $"{prefix}{setting} must be greater than zero, not {value}.";
            }
        }

        if (MaxPayload < 1024)
        {
            yield return $"{prefix}MaxPayload must be at least 1024, not {MaxPayload}.";
        }

        if (MaxBufferedBytes < MaxPayload)
        {
            yield return $"{prefix}MaxBufferedBytes ({MaxBufferedBytes}) must be at least {prefix}MaxPayload ({MaxPayload}).";
        }

        foreach (var transport in Transports)
        {
            if (transport is not ("polling" or "websocket"))
            {
                yield return $"{prefix}Transports may hold 'polling' and 'websocket', not '{transport}'.";
            }
        }

        if (Transports.Length == 0)
        {
            yield return $"{prefix}Transports must name at least one transport.";
        }
    }
}
