using System.Text.Json;
using Microsoft.Extensions.Options;
using Realtime.Client.Hosting;
using Realtime.Client.Emitting;
using Realtime.Contracts;
using Realtime.Wire;

namespace Realtime.Client.Operations;

internal sealed class RealtimeCluster(IClusterClient client, IOptions<RealtimeClientOptions> options, NodeName node) : IRealtimeCluster
{
    private readonly string _hub = options.Value.Hub;

    public Task<IReadOnlyList<PresenceEntry>> RoomPresenceAsync(string @namespace, string room, bool withData = false, CancellationToken cancellationToken = default) =>
        PresenceAsync(Room(@namespace, room), withData, cancellationToken);

    public Task<IReadOnlyList<PresenceEntry>> NamespacePresenceAsync(string @namespace, bool withData = false, CancellationToken cancellationToken = default) =>
        PresenceAsync(client.GetGrain<INamespaceGrain>(GrainKeys.Namespace(_hub, Checked.Namespace(@namespace))), withData, cancellationToken);

    public Task<int> CountAsync(string @namespace, string? room = null, CancellationToken cancellationToken = default) =>
        (room is null
            ? client.GetGrain<INamespaceGrain>(GrainKeys.Namespace(_hub, Checked.Namespace(@namespace))).MemberCount()
            : Room(@namespace, room).MemberCount()).WaitAsync(cancellationToken);

    public Task<SessionInfo?> GetConnectionAsync(string connectionId, CancellationToken cancellationToken = default) =>
        Session(connectionId).Get().WaitAsync(cancellationToken);

    public async Task<bool> JoinAsync(string connectionId, string room, CancellationToken cancellationToken = default)
    {
        var session = Session(connectionId);
        var info = await session.Get().WaitAsync(cancellationToken);
        return info is not null && await session.JoinRoom(GrainKeys.Room(_hub, info.Namespace, Checked.Room(room))).WaitAsync(cancellationToken);
    }

    public async Task<bool> LeaveAsync(string connectionId, string room, CancellationToken cancellationToken = default)
    {
        var session = Session(connectionId);
        var info = await session.Get().WaitAsync(cancellationToken);
        return info is not null && await session.LeaveRoom(GrainKeys.Room(_hub, info.Namespace, Checked.Room(room))).WaitAsync(cancellationToken);
    }

    public Task<JsonElement> InvokeClientAsync(string connectionId, string method, object?[] args, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (timeout <= TimeSpan.Zero || timeout > IRealtimeCluster.MaxClientResultTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, $"The timeout must be positive and at most {IRealtimeCluster.MaxClientResultTimeout}.");
        }

        ArgumentException.ThrowIfNullOrEmpty(method);
        return Session(connectionId).InvokeClient(method, JsonData.ToElements(args), timeout).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Puts the event on the hub's server-event stream, which every gateway subscribes to; returns how many gateways
    /// it was addressed to: those registered for the hub, this process left out unless it hears its own.
    /// </summary>
    public async Task<int> ServerEmitAsync(string eventName, object? data, bool includeSelf = false, CancellationToken cancellationToken = default)
    {
        var message = new ServerEventMessage(Checked.Event(eventName), JsonData.ToElement(data), includeSelf ? "" : node.Value);
        var stream = client.GetStreamProvider(RealtimeStreams.ProviderName).GetStream<ServerEventMessage>(RealtimeStreams.ServerEventsOf(_hub));
        await stream.OnNextAsync(message).WaitAsync(cancellationToken);
        var gateways = await client.GetGrain<IGatewayRegistryGrain>(_hub).Gateways().WaitAsync(cancellationToken);
        return gateways.Count(gatewayId => gatewayId != message.From);
    }

    public Task<bool> DisconnectAsync(string connectionId, CancellationToken cancellationToken = default) =>
        Session(connectionId).Disconnect().WaitAsync(cancellationToken);

    public async Task<int> DisconnectUserAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var connections = await client.GetGrain<IUserGrain>(GrainKeys.User(_hub, userId)).Members().WaitAsync(cancellationToken);
        return await DisconnectAllAsync(connections, cancellationToken);
    }

    public async Task<int> DisconnectRoomAsync(string @namespace, string room, CancellationToken cancellationToken = default)
    {
        var members = await Room(@namespace, room).Members().WaitAsync(cancellationToken);
        return await DisconnectAllAsync(members, cancellationToken);
    }

    /// <summary>Closes the members' connections through their gateways, one call to each (<see cref="IConnectionsGrain"/>).</summary>
    private Task<int> DisconnectAllAsync(IReadOnlyList<Member> members, CancellationToken cancellationToken) =>
        client.GetGrain<IConnectionsGrain>(_hub).Act(members, ConnectionAction.Disconnect).WaitAsync(cancellationToken);

    /// <summary>A group's members; with data, each read from the gateway that holds it (<see cref="IMemberGroupGrain.Sessions"/>).</summary>
    private static async Task<IReadOnlyList<PresenceEntry>> PresenceAsync(IMemberGroupGrain group, bool withData, CancellationToken cancellationToken)
    {
        if (!withData)
        {
            var members = await group.Members().WaitAsync(cancellationToken);
            return [.. members.Select(m => new PresenceEntry(m.ConnectionId, m.UserId, m.GatewayId))];
        }

        var sessions = await group.Sessions().WaitAsync(cancellationToken);
        return [.. sessions.Select(s => new PresenceEntry(s.Member.ConnectionId, s.Member.UserId, s.Member.GatewayId, s.Data))];
    }

    private IRoomGrain Room(string @namespace, string room) =>
        client.GetGrain<IRoomGrain>(GrainKeys.Room(_hub, Checked.Namespace(@namespace), Checked.Room(room)));

    private ISessionGrain Session(string connectionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionId);
        return client.GetGrain<ISessionGrain>(GrainKeys.Session(_hub, connectionId));
    }
}
