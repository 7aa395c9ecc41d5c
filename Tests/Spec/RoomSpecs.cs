using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Spec;

// The room spec for each protocol on each hosting mode.

[Collection(EmbeddedGatewayCollection.Name)]
public sealed class SignalRRoomsOnTheEmbeddedGateway(EmbeddedGateway host) : RoomSpec(host, SpecProtocol.SignalR);

[Collection(EmbeddedGatewayCollection.Name)]
public sealed class SocketIORoomsOnTheEmbeddedGateway(EmbeddedGateway host) : RoomSpec(host, SpecProtocol.SocketIO);

[Collection(SharedClusterCollection.Name)]
public sealed class SignalRRoomsOnTheCluster(SharedCluster host) : RoomSpec(host, SpecProtocol.SignalR);

[Collection(SharedClusterCollection.Name)]
public sealed class SocketIORoomsOnTheCluster(SharedCluster host) : RoomSpec(host, SpecProtocol.SocketIO);
