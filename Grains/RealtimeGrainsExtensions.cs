using Realtime.Grains.Hubs;
using Realtime.Grains.Namespaces;
using Realtime.Grains.Rooms;
using Realtime.Grains.Sessions;
using Realtime.Grains.Users;
using Realtime.Runtime.Hosting;

namespace Realtime.Grains;

public static class RealtimeGrainsExtensions
{
    /// <summary>Lets this node host the realtime grains: hubs, namespaces, rooms, users and sessions.</summary>
    public static GrainRuntimeBuilder AddRealtimeGrains(this GrainRuntimeBuilder builder) =>
        builder
            .AddGrain<IHubGrain, HubGrain>()
            .AddGrain<INamespaceGrain, NamespaceGrain>()
            .AddGrain<IRoomGrain, RoomGrain>()
            .AddGrain<IUserGrain, UserGrain>()
            .AddGrain<ISessionGrain, SessionGrain>();
}
