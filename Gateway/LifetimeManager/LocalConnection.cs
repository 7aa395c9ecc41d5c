using Microsoft.AspNetCore.SignalR;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>What this gateway knows of one of its connections.</summary>
internal sealed class LocalConnection(HubConnectionContext context, string @namespace, Member member, string? rejection)
{
    private readonly HashSet<string> _roomKeys = new(StringComparer.Ordinal);
    private bool _closed;

    public HubConnectionContext Context { get; } = context;

    public string Namespace { get; } = @namespace;

    public Member Member { get; } = member;

    /// <summary>The application data last set on the connection, kept here to re-assert its session.</summary>
    public System.Text.Json.JsonElement? Data { get; set; }

    /// <summary>Why the connection is refused (an invalid namespace); it is then registered nowhere.</summary>
    public string? Rejection { get; } = rejection;

    /// <summary>Records a room; false when already in it or when the connection has closed.</summary>
    public bool TryAddRoom(string roomKey, out bool closed)
    {
        lock (_roomKeys)
        {
            closed = _closed;
            return !_closed && _roomKeys.Add(roomKey);
        }
    }

    public bool RemoveRoom(string roomKey)
    {
        lock (_roomKeys)
        {
            return _roomKeys.Remove(roomKey);
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (_roomKeys)
            {
                return _closed;
            }
        }
    }

    public string[] RoomKeys()
    {
        lock (_roomKeys)
        {
            return [.. _roomKeys];
        }
    }

    /// <summary>Marks the connection closed and returns the rooms it was in.</summary>
    public string[] Close()
    {
        lock (_roomKeys)
        {
            _closed = true;
            string[] keys = [.. _roomKeys];
            _roomKeys.Clear();
            return keys;
        }
    }
}
