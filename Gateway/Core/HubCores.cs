using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Realtime.Contracts.Hosting;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>
/// Makes each hub's delivery core once, for whichever adapter asks first (SignalR's lifetime manager, the socket.io
/// server, a hub's constructor), so that all of them share it. Dependency injection cannot make
/// <see cref="LocalHub{THub}"/> itself: its constructor takes internal types, and the type is public.
/// </summary>
internal sealed class HubCores(
    IGrainFactory grains,
    GatewayReceiver receiver,
    IHubProtocolResolver protocols,
    IOptions<GatewayOptions> options,
    IHostApplicationLifetime lifetime,
    IOptions<RealtimeStreamsOptions> streams,
    GatewayMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ConcurrentDictionary<Type, Lazy<object>> _cores = new();

    public LocalHub<THub> For<THub>() => (LocalHub<THub>)_cores.GetOrAdd(
        typeof(THub),
        _ => new Lazy<object>(() => new LocalHub<THub>(grains, receiver, protocols, options, lifetime, streams, metrics, time, loggers.CreateLogger<LocalHub<THub>>()))).Value;
}
