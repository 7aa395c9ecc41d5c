using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// This silo's <see cref="IGatewayService"/>: a grain service (one per silo, addressed by the silo) that hands what
/// grains send this gateway to its <see cref="ILocalGateway"/>, or answers that there is none here.
/// </summary>
internal sealed partial class GatewayService(GrainId id, Silo silo, ILoggerFactory loggers, IServiceProvider services)
    : GrainService(id, silo, loggers), IGatewayService
{
    private readonly ILogger _logger = loggers.CreateLogger<GatewayService>();
    private ILocalGateway? _local;
    private bool _resolved;

    /// <summary>The gateway of this silo, resolved on first use: it depends on the host's web server, built after the silo.</summary>
    private ILocalGateway? Local
    {
        get
        {
            if (!_resolved)
            {
                _local = services.GetService<ILocalGateway>();
                _resolved = true;
            }

            return _local;
        }
    }

    public Task Deliver(Delivery delivery)
    {
        if (Local is { } local)
        {
            local.Deliver(delivery);
        }
        else
        {
            NoConnectionsHere(_logger, delivery.Target, delivery.Key);
        }

        return Task.CompletedTask;
    }

    public Task DeliverConfirmed(Delivery delivery) => Deliver(delivery);

    public Task DeliverAll(Delivery[] deliveries)
    {
        if (Local is { } local)
        {
            local.DeliverAll(deliveries);
        }
        else if (deliveries.Length > 0)
        {
            NoConnectionsHere(_logger, deliveries[0].Target, deliveries[0].Key);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Member>> Members(string hub, DeliveryTarget target, string key) =>
        Task.FromResult(Local?.Members(hub, target, key) ?? []);

    public Task<GatewayGroupState> GroupState(string hub, DeliveryTarget target, string key) =>
        Task.FromResult(Local?.GroupState(hub, target, key) ?? new GatewayGroupState([], null, []));

    public Task<SessionInfo?> Session(string hub, string connectionId) => Task.FromResult(Local?.Session(hub, connectionId));

    public Task<IReadOnlyList<SessionInfo>> Sessions(string hub, IReadOnlyList<string> connectionIds) =>
        Task.FromResult(Local?.Sessions(hub, connectionIds) ?? []);

    public Task<int> Act(string hub, IReadOnlyList<string> connectionIds, ConnectionAction action) =>
        Local?.Act(hub, connectionIds, action) ?? Task.FromResult(0);

    public Task<IReadOnlyList<JsonElement>> InvokeClients(string hub, IReadOnlyList<string> connectionIds, string method, JsonElement[] args, TimeSpan timeout) =>
        Local?.InvokeClients(hub, connectionIds, method, args, timeout) ?? Task.FromResult<IReadOnlyList<JsonElement>>([]);

    public Task<bool> JoinRoom(string hub, string connectionId, string roomKey) =>
        Local?.JoinRoom(hub, connectionId, roomKey) ?? Task.FromResult(false);

    public Task<bool> LeaveRoom(string hub, string connectionId, string roomKey) =>
        Local?.LeaveRoom(hub, connectionId, roomKey) ?? Task.FromResult(false);

    public Task<JsonElement> InvokeClient(string hub, string connectionId, string method, JsonElement[] args, TimeSpan timeout) =>
        Local?.InvokeClient(hub, connectionId, method, args, timeout)
            ?? throw new InvalidOperationException($"Silo {Silo} holds no connections.");

    public Task<bool> Disconnect(string hub, string connectionId) => Task.FromResult(Local?.Disconnect(hub, connectionId) ?? false);

    public Task<string?> Serving(string hub) => Task.FromResult(Local?.Serving(hub));

    public Task<string?> Url() => Task.FromResult(Local?.Url);

    public Task<GatewayStats> Stats(string hub, int maxRooms) =>
        Task.FromResult(Local?.Stats(hub, maxRooms) ?? new GatewayStats(Silo.ToString(), 0, [], [], false));

    [LoggerMessage(141, LogLevel.Warning, "A delivery of {Target} {Key} reached silo that holds no connections; it is dropped.")]
    private static partial void NoConnectionsHere(ILogger logger, DeliveryTarget target, string key);
}
