using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Core;

namespace Realtime.Tests.Core;

/// <summary>A connection of any protocol as the core sees it: what was written to it, as the events' text.</summary>
internal sealed class TestConnection(FakeCluster cluster, string connectionId, string @namespace, string? userId = null)
    : LocalConnection(connectionId, @namespace, new Member(connectionId, cluster.GatewayId, userId), null)
{
    private readonly List<string> _received = [];

    public override string Protocol => "test";

    public override string Transport => "memory";

    /// <summary>What each written message carried: the first argument of its invocation (the event), as JSON.</summary>
    public IReadOnlyList<string> Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToList();
            }
        }
    }

    public List<string> ClosedRooms { get; } = [];

    public override void Write(OutgoingMessage message)
    {
        var invocation = Wire.HubJson.ToInvocation(message.Payload);
        lock (_received)
        {
            _received.Add(((JsonElement)invocation.Arguments[0]!).GetString() ?? "");
        }
    }

    public override void RoomClosed(string roomName) => ClosedRooms.Add(roomName);

    /// <summary>Each run of messages the connection was told it will never get: room (null for the namespace), from, to.</summary>
    public List<(string? Room, long? From, long To)> MissedRuns { get; } = [];

    public override void Missed(string? room, string? epoch, long? from, long to)
    {
        lock (MissedRuns)
        {
            MissedRuns.Add((room, from, to));
        }
    }

    public override void Abort()
    {
    }

    public override void Close(string reason)
    {
    }

    public override Task CloseForShutdownAsync() => Task.CompletedTask;

    public override Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) => throw new NotSupportedException();
}
