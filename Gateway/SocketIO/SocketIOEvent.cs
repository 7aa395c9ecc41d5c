using System.Security.Claims;
using System.Text.Json;

namespace Realtime.Gateway.SocketIO;

/// <summary>An event a client emitted, as its handler gets it.</summary>
public sealed class SocketIOEvent
{
    private readonly Func<object?[], Task>? _ack;
    private int _acked;

    internal SocketIOEvent(Socket socket, string name, SocketIOArgs args, Func<object?[], Task>? ack)
    {
        Socket = socket;
        Name = name;
        Args = args;
        _ack = ack;
    }

    public Socket Socket { get; }

    public string Name { get; }

    public SocketIOArgs Args { get; }

    /// <summary>The client passed a callback and waits for the server's acknowledgement.</summary>
    public bool HasAck => _ack is not null;

    /// <summary>The callback has been called.</summary>
    public bool Acknowledged => Volatile.Read(ref _acked) == 1;

    /// <summary>Calls the client's callback with <paramref name="args"/>; does nothing without one, or the second time.</summary>
    public Task AckAsync(params object?[] args) =>
        _ack is null || Interlocked.Exchange(ref _acked, 1) == 1 ? Task.CompletedTask : _ack(args);
}

/// <summary>How a client connected: its handshake request and what it passed as <c>auth</c>.</summary>
/// <param name="Headers">The handshake request's headers.</param>
/// <param name="Query">The handshake request's query parameters (the client's <c>query</c> option among them).</param>
/// <param name="Address">The client's address as the gateway saw it.</param>
/// <param name="Time">When the Engine.IO session opened.</param>
/// <param name="Url">The handshake request's path and query.</param>
/// <param name="Auth">The client's <c>auth</c> payload for this namespace, or an empty object.</param>
/// <param name="User">The user a JWT on the handshake request authenticated, if any.</param>
public sealed record SocketIOHandshake(
    IReadOnlyDictionary<string, string> Headers,
    IReadOnlyDictionary<string, string> Query,
    string Address,
    DateTimeOffset Time,
    string Url,
    JsonElement Auth,
    ClaimsPrincipal User);

/// <summary>Thrown by connection middleware to refuse a client: it gets a <c>connect_error</c> with this message and data.</summary>
public sealed class SocketIOConnectionRefusedException(string message, object? data = null) : Exception(message)
{
    /// <summary>Sent to the client as the error's <c>data</c>.</summary>
    public object? Details { get; } = data;
}

/// <summary>
/// Not every client acknowledged a broadcast within the timeout. <see cref="Responses"/> holds the answers that came.
/// </summary>
public sealed class SocketIOAckTimeoutException(IReadOnlyList<JsonElement> responses, int expected)
    : TimeoutException($"{expected - responses.Count} of {expected} client(s) did not acknowledge in time.")
{
    public IReadOnlyList<JsonElement> Responses { get; } = responses;

    public int Expected { get; } = expected;
}
