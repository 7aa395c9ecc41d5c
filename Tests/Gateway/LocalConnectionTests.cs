using System.Text;
using System.Text.Json;
using Realtime.Contracts;
using Realtime.Gateway.Core;

namespace Realtime.Tests.Gateway;

/// <summary>How a connection that resumes or recovers gets every message of a group once: holds, replays, and late deliveries.</summary>
public sealed class LocalConnectionTests
{
    [Fact]
    public void Release_WritesTheReplayThenWhatWasHeldAfterIt_AndLaterDeliveriesUpToTheReplayAreSkipped()
    {
        var connection = new Recording();
        connection.Hold("room");
        Assert.True(connection.TryHold("room", 4, Message("held 4")));
        Assert.True(connection.TryHold("room", 6, Message("held 6")));

        connection.Release("room", [Message("replayed 4"), Message("replayed 5")], upTo: 5, epoch: "e1");

        Assert.Equal(["replayed 4", "replayed 5", "held 6"], connection.Written);
        Assert.False(connection.TryHold("room", 7, Message("live")), "no longer held");

        // A delivery of the group sent before the connection joined, on its way for the gateway's other members.
        Assert.True(connection.WasReplayed("room", "e1", 5));
        Assert.False(connection.WasReplayed("room", "e1", 6));
        Assert.False(connection.WasReplayed("room", "e2", 3), "another activation of the group numbers anew");
        Assert.False(connection.WasReplayed("other", "e1", 1));
    }

    [Fact]
    public void Release_WithNothingReplayed_LeavesLaterDeliveriesAlone()
    {
        var connection = new Recording();
        connection.Hold("room");
        connection.Release("room", [], upTo: 0, epoch: "e1");
        Assert.False(connection.WasReplayed("room", "e1", 1));
    }

    private static OutgoingMessage Message(string text) =>
        new(new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes(text))]));

    private sealed class Recording() : LocalConnection("c1", "/", new Member("c1", "gw", null), null)
    {
        public List<string> Written { get; } = [];

        public override string Protocol => "json";

        public override string Transport => "test";

        public override void Write(OutgoingMessage message) => Written.Add(Encoding.UTF8.GetString(message.Payload.Protocols[0].Bytes.Span));

        public override void Abort()
        {
        }

        public override void Close(string reason)
        {
        }

        public override Task CloseForShutdownAsync() => Task.CompletedTask;

        public override Task<JsonElement> InvokeAsync(string method, JsonElement[] args, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
