using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>Bad input gets a clear error on that call; the connection and every other client go on.</summary>
public sealed class BadInputTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private TestGateway Gateway => fixture.Gateway;

    public static TheoryData<string, string> InvalidRoomNames => new()
    {
        { "", "cannot be empty" },
        { new string('r', 201), "at most 200 characters" },
        { "bell\u0007room", "control characters" },
        { "line\nbreak", "control characters" },
    };

    [Theory]
    [MemberData(nameof(InvalidRoomNames))]
    public async Task Join_InvalidRoomName_ErrorAndConnectionGoesOn(string room, string expected)
    {
        await using var pair = await ConnectPairAsync("badroom");
        var (alice, bob) = pair;

        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("Join", room));
        Assert.Contains("Invalid room name", error.Message);
        Assert.Contains(expected, error.Message);

        await AssertStillWorksAsync(alice, bob);
    }

    [Theory]
    [MemberData(nameof(InvalidRoomNames))]
    public async Task SendToRoomAndCloseRoom_InvalidRoomName_Error(string room, string expected)
    {
        await using var alice = await Gateway.ConnectRawAsync("alice", GatewayFixture.Unique("badsend"));

        var send = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("SendToRoom", room, "e", "x"));
        var close = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("CloseRoom", room));
        var leave = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("Leave", room));

        Assert.All(new[] { send, close, leave }, e => Assert.Contains(expected, e.Message));
        Assert.Empty(await alice.InvokeAsync<string[]>("Rooms"));
    }

    [Fact]
    public async Task Echo_InvalidEventName_Error()
    {
        await using var alice = await Gateway.ConnectRawAsync("alice", GatewayFixture.Unique("badevent"));

        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("Echo", "", "x"));

        Assert.Contains("Invalid event name", error.Message);
    }

    [Theory]
    [InlineData("Echo")]
    [InlineData("Broadcast")]
    [InlineData("SendToRoom")]
    public async Task Send_MessageOverDefaultLimit_ErrorNamesLimitAndNobodyReceivesIt(string method)
    {
        var ns = GatewayFixture.Unique("big");
        await using var alice = await Gateway.ConnectRawAsync("alice", ns);
        await using var bob = await Gateway.ConnectRawAsync("bob", ns);
        await alice.InvokeAsync("Join", "lobby");
        await bob.InvokeAsync("Join", "lobby");
        var big = new string('x', 100 * 1024);

        var call = method == "SendToRoom" ? alice.InvokeAsync(method, "lobby", "big", big) : alice.InvokeAsync(method, "big", big);
        var error = await Assert.ThrowsAsync<HubErrorException>(() => call);

        Assert.Contains("more than the limit of 65536 bytes", error.Message);
        Assert.Contains("Gateway:MaxMessageBytes", error.Message);
        await AssertStillWorksAsync(alice, bob);
        Assert.DoesNotContain(alice.Events().Concat(bob.Events()), e => e.Event == "big");
    }

    [Fact]
    public async Task Send_MessageJustUnderLimit_IsDelivered()
    {
        await using var alice = await Gateway.ConnectRawAsync("alice", GatewayFixture.Unique("fits"));

        await alice.InvokeAsync("Echo", "fits", new string('x', 60 * 1024));

        await alice.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "fits");
    }

    [Fact]
    public async Task Invoke_UnknownMethod_ErrorAndConnectionGoesOn()
    {
        await using var pair = await ConnectPairAsync("unknown");
        var (alice, bob) = pair;

        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("LaunchRockets", 1));

        Assert.Contains("Method does not exist", error.Message);
        await AssertStillWorksAsync(alice, bob);
    }

    [Fact]
    public async Task Invoke_WrongArgumentCount_ErrorAndConnectionGoesOn()
    {
        await using var pair = await ConnectPairAsync("args");
        var (alice, bob) = pair;

        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("Join"));

        Assert.Contains("Join", error.Message);
        await AssertStillWorksAsync(alice, bob);
    }

    [Theory]
    [InlineData("bad\u0001name", "control characters")]
    [InlineData("nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "at most 200 characters")]
    public async Task Connect_InvalidNamespace_RefusedWithReasonOthersUnaffected(string @namespace, string expected)
    {
        var ns = GatewayFixture.Unique("fine");
        await using var bob = await Gateway.ConnectRawAsync("bob", ns);
        await bob.InvokeAsync("Join", "lobby");

        await using var refused = await Gateway.ConnectRawAsync("refused", @namespace);
        var reason = await refused.Closed.Within("the refused connection to close");

        Assert.NotNull(reason);
        Assert.Contains("Invalid namespace", reason);
        Assert.Contains(expected, reason);
        await bob.InvokeAsync("SendToRoom", "lobby", "still", "here");
        await bob.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "still");
    }

    [Fact]
    public async Task MalformedFrame_WithAnInvocationId_ErrorToThatCallAndTheConnectionGoesOn()
    {
        await using var pair = await ConnectPairAsync("malformed");
        var (alice, bob) = pair;

        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeRawAsync("""{"type":1,"invocationId":"bad-1","target":"Echo","arguments":[}""", "bad-1"));

        Assert.Contains("The frame is not a valid message", error.Message);
        Assert.False(alice.Closed.IsCompleted);
        await AssertStillWorksAsync(alice, bob);
    }

    [Theory]
    [InlineData("{ this is not json")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"type\":\"one\"}")]
    [InlineData("{\"type\":7,\"error\":\"only servers send a close\"}")]
    [InlineData("{\"type\":99}")]
    public async Task MalformedFrame_WithoutAnId_IsSkippedAndTheConnectionGoesOn(string frame)
    {
        await using var pair = await ConnectPairAsync("garbage");
        var (alice, bob) = pair;

        await alice.SendRawAsync(frame);

        await AssertStillWorksAsync(alice, bob);
        Assert.False(alice.Closed.IsCompleted);
    }

    [Fact]
    public async Task MaxMessageBytes_Configured_AppliesTheConfiguredLimit()
    {
        await using var gateway = await TestGateway.StartAsync("--Gateway:MaxMessageBytes=2048");
        await using var alice = await gateway.ConnectRawAsync("alice");

        await alice.InvokeAsync("Echo", "small", new string('x', 1500));
        var error = await Assert.ThrowsAsync<HubErrorException>(() => alice.InvokeAsync("Echo", "large", new string('x', 3000)));

        Assert.Contains("limit of 2048 bytes", error.Message);
        await alice.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "small");
    }

    /// <summary>Two clients in a namespace of their own; bob is in room "lobby".</summary>
    private async Task<ClientPair> ConnectPairAsync(string prefix)
    {
        var ns = GatewayFixture.Unique(prefix);
        var alice = await Gateway.ConnectRawAsync("alice", ns);
        var bob = await Gateway.ConnectRawAsync("bob", ns);
        await bob.InvokeAsync("Join", "lobby");
        return new ClientPair(alice, bob);
    }

    private sealed record ClientPair(RawHubClient Alice, RawHubClient Bob) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Bob.DisposeAsync();
        }
    }

    /// <summary>The caller can still use its connection, and another client in a room still gets messages.</summary>
    private static async Task AssertStillWorksAsync(RawHubClient caller, RawHubClient other)
    {
        var marker = Guid.NewGuid().ToString("N");
        await caller.InvokeAsync("Echo", "after-error", marker);
        await caller.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == marker);
        await caller.InvokeAsync("SendToRoom", "lobby", "after-error", marker);
        await other.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetString() == marker);
    }
}
