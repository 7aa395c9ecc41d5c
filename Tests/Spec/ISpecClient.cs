namespace Realtime.Tests.Spec;

/// <summary>Where the spec's clients connect: the gateways of one hosting mode, each serving both protocols.</summary>
public interface IRealtimeHost
{
    /// <summary>"embedded" or "cluster", for messages.</summary>
    string Name { get; }

    /// <summary>The gateways' HTTP addresses.</summary>
    IReadOnlyList<Uri> Gateways { get; }

    /// <summary>The key of the gateways' HTTP API, which services use to send.</summary>
    string ApiKey { get; }
}

/// <summary>The server answered a client's request with an error, a refusal say; the message is the server's.</summary>
public sealed class SpecErrorException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Makes clients of one protocol; disposing it closes what it made.</summary>
public interface ISpecClients : IAsyncDisposable
{
    /// <summary>Connects a client; with <paramref name="user"/>, signed in as that user (a JWT the gateways accept).</summary>
    Task<ISpecClient> ConnectAsync(string name, Uri gateway, string? user = null);
}

/// <summary>
/// What the room spec does with a client, in the words of rooms and namespaces; each protocol's driver says it in its
/// own calls and events. A message is a text; a client records the texts of the room and namespace messages it received,
/// in the order they arrived.
/// </summary>
public interface ISpecClient : IAsyncDisposable
{
    string Name { get; }

    /// <summary>The connection's id, as presence lists it.</summary>
    string Id { get; }

    /// <summary>
    /// Joins a room; returns when the server says it is done. This and the other requests below throw
    /// <see cref="SpecErrorException"/> when the server answers with an error.
    /// </summary>
    Task JoinAsync(string room);

    Task LeaveAsync(string room);

    /// <summary>Sends a text to a room; returns when the server has handled it.</summary>
    Task SendAsync(string room, string text);

    /// <summary>Sends a text to a room without waiting for the server, as a client that pipelines its sends does.</summary>
    Task SendWithoutWaitingAsync(string room, string text);

    /// <summary>Sends a text to every connection of the namespace.</summary>
    Task BroadcastAsync(string text);

    /// <summary>Closes a room for every member.</summary>
    Task CloseRoomAsync(string room);

    /// <summary>The ids of the connections in a room.</summary>
    Task<IReadOnlyList<string>> PresenceAsync(string room);

    /// <summary>
    /// The texts received so far, in order: from rooms and the namespace, and those a service sent it as the event
    /// <c>text</c>.
    /// </summary>
    IReadOnlyList<string> Received { get; }

    /// <summary>Waits until <see cref="Received"/> holds <paramref name="count"/> texts that <paramref name="match"/> accepts.</summary>
    Task WaitForAsync(Func<string, bool> match, int count = 1);

    /// <summary>Waits until the client was told that <paramref name="room"/> closed.</summary>
    Task WaitForRoomClosedAsync(string room);

    /// <summary>
    /// A round trip on this connection: everything its gateway wrote to it before has arrived when this returns. A
    /// gateway writes a delivery to all its local recipients at once, so after another client on the same gateway got
    /// a message, this proves whether this client got it too.
    /// </summary>
    Task BarrierAsync();

    /// <summary>Asks the server to disconnect this client; returns when the connection is closed, and fails unless the client was told why first.</summary>
    Task DisconnectedByServerAsync();

    /// <summary>
    /// Loses the connection (the network, not a goodbye), runs <paramref name="whileAway"/>, and comes back on
    /// <paramref name="gateway"/> asking for its session; returns whether the server recovered it.
    /// </summary>
    Task<bool> DropAndComeBackAsync(Uri gateway, Func<Task> whileAway);
}
