using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// An internal service reaching clients through the cluster client library, run as its own OS process (the sample
/// in <c>samples/EmitterService</c>), against silos and gateways that are processes too.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class ClientLibraryTests(SharedCluster shared)
{
    [Fact]
    public async Task ServiceProcess_EmitsToRoomNamespaceAndConnection_EachArrivesOnceWhereItShould()
    {
        var cluster = shared.Cluster;
        var room = GatewayFixture.Unique("lobby");
        await using var a = await cluster.ConnectAsync(cluster.Gateways[0], "a", "chat");
        await using var b = await cluster.ConnectAsync(cluster.Gateways[1], "b", "chat");
        await using var other = await cluster.ConnectAsync(cluster.Gateways[1], "other", "news");
        await a.InvokeAsync("Join", room);
        await b.InvokeAsync("Join", room);
        var bId = (await b.InvokeAsync("ConnectionId")).GetString()!;

        await AssertSucceedsAsync(cluster, "emit-room", "/chat", room, "job_done", """{"id":7}""");
        await AssertSucceedsAsync(cluster, "emit-namespace", "/chat", "notice", "\"to chat\"");
        await AssertSucceedsAsync(cluster, "emit-connection", bId, "private", "\"just b\"");

        foreach (var member in new[] { a, b })
        {
            var message = Assert.Single(await member.WaitForAsync("event", e => Event(e) == "job_done"));
            Assert.Equal(7, message.Arguments[0].GetProperty("data").GetProperty("id").GetInt32());
            Assert.Equal(room, message.Arguments[0].GetProperty("room").GetString());
            Assert.Equal("service", message.Arguments[0].GetProperty("from").GetString());
            Assert.Single(await member.WaitForAsync("event", e => Event(e) == "notice"));
        }

        Assert.Single(await b.WaitForAsync("event", e => Event(e) == "private"));
        await a.BarrierAsync();
        await other.BarrierAsync();
        Assert.DoesNotContain(a.ReceivedOn("event"), e => Event(e) == "private");
        Assert.DoesNotContain(other.ReceivedOn("event"), e => Event(e) is "job_done" or "notice");
        Assert.Single(a.ReceivedOn("event"), e => Event(e) == "job_done"); // once, not once per gateway
    }

    [Fact]
    public async Task ServiceProcess_AConnectionIdThatStartsWithDashes_IsTheCommandsArgumentNotASetting()
    {
        // SignalR's connection ids are URL-safe base64 and may start with "--": such an id came after the command.
        var (exitCode, output) = await shared.Cluster.RunServiceAsync("emit-connection", "--AAAAAAAAAAAAAAAAAAAAA", "private", "1");

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task ServiceProcess_EmitsToAUserWithConnectionsOnTwoGateways_BothReceiveOnce()
    {
        var cluster = shared.Cluster;
        await using var phone = await cluster.ConnectAsync(cluster.Gateways[0], "phone", user: "alice");
        await using var laptop = await cluster.ConnectAsync(cluster.Gateways[1], "laptop", user: "alice");
        await using var stranger = await cluster.ConnectAsync(cluster.Gateways[1], "stranger", user: "mallory");
        foreach (var client in new[] { phone, laptop, stranger })
        {
            await client.BarrierAsync(); // registered with its user (docs/architecture.md, "Connect")
        }

        await AssertSucceedsAsync(cluster, "emit-user", "alice", "order_shipped", """{"order":42}""");

        foreach (var device in new[] { phone, laptop })
        {
            var received = Assert.Single(await device.WaitForAsync("event", e => Event(e) == "order_shipped"));
            Assert.Equal(42, received.Arguments[0].GetProperty("data").GetProperty("order").GetInt32());
        }

        await phone.BarrierAsync();
        await stranger.BarrierAsync();
        Assert.Single(phone.ReceivedOn("event"), e => Event(e) == "order_shipped");
        Assert.DoesNotContain(stranger.ReceivedOn("event"), e => Event(e) == "order_shipped");
    }

    [Fact]
    public async Task ServiceProcess_InvokesAClientOnAnotherGateway_GetsItsAnswerOrATimeout()
    {
        var cluster = shared.Cluster;
        await using var client = await cluster.ConnectAsync(cluster.Gateways[1], "client");
        client.Answer("getLocation", 1, args => new { city = "Oslo", precise = args[0].GetBoolean() });
        await using var silent = await cluster.ConnectAsync(cluster.Gateways[0], "silent");
        silent.AnswerLater("getLocation", 1, _ => new TaskCompletionSource<object?>().Task); // never answers
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;
        var silentId = (await silent.InvokeAsync("ConnectionId")).GetString()!;

        var answer = JsonSerializer.Deserialize<JsonElement>(await AssertSucceedsAsync(cluster, "invoke", id, "getLocation", "3", "true"));
        var (exitCode, output) = await cluster.RunServiceAsync("invoke", silentId, "getLocation", "1", "true");

        Assert.Equal("Oslo", answer.GetProperty("city").GetString());
        Assert.True(answer.GetProperty("precise").GetBoolean());
        Assert.Equal(1, exitCode);
        Assert.Contains("did not answer getLocation within 1 s", output);
    }

    [Fact]
    public async Task ServiceProcess_GivenSiloAddressesInsteadOfRedis_EmitsAndReadsPresence()
    {
        var cluster = shared.Cluster;
        var room = GatewayFixture.Unique("lobby");
        await using var a = await cluster.ConnectAsync(cluster.Gateways[0], "a");
        await using var b = await cluster.ConnectAsync(cluster.Gateways[1], "b");
        await a.InvokeAsync("Join", room);
        await b.InvokeAsync("Join", room);
        string[] settings =
        [
            .. cluster.ClusterArguments().Where(s => !s.StartsWith("--Cluster:Redis=", StringComparison.Ordinal)),
            .. cluster.Silos.Select((silo, i) => $"--Cluster:Silos:{i}=127.0.0.1:{silo.GatewayPort}"),
        ];

        var (exitCode, output) = await cluster.RunServiceWithAsync(settings, "emit-room", "/", room, "no_redis", "1");
        var (_, presence) = await cluster.RunServiceWithAsync(settings, "presence", "/", room);

        Assert.True(exitCode == 0, output);
        await a.WaitForAsync("event", e => Event(e) == "no_redis");
        await b.WaitForAsync("event", e => Event(e) == "no_redis");
        Assert.Equal(2, JsonSerializer.Deserialize<JsonElement[]>(presence.Split('\n')[^1])!.Length);
    }

    [Fact]
    public async Task ServiceProcess_JoinLeaveAndDisconnect_ActOnConnectionsOfAnyGateway()
    {
        var cluster = shared.Cluster;
        var room = GatewayFixture.Unique("lobby");
        await using var a = await cluster.ConnectAsync(cluster.Gateways[0], "a");
        await using var b = await cluster.ConnectAsync(cluster.Gateways[1], "b");
        var bId = (await b.InvokeAsync("ConnectionId")).GetString()!;
        await a.InvokeAsync("Join", room);

        Assert.Equal("true", await AssertSucceedsAsync(cluster, "join", bId, room));
        Assert.Equal([room], await b.InvokeAsync<string[]>("Rooms"));
        var presence = JsonSerializer.Deserialize<JsonElement[]>(await AssertSucceedsAsync(cluster, "presence", "/", room))!;
        Assert.Equal(2, presence.Length);

        Assert.Equal("true", await AssertSucceedsAsync(cluster, "leave", bId, room));
        Assert.Empty(await b.InvokeAsync<string[]>("Rooms"));

        Assert.Equal("true", await AssertSucceedsAsync(cluster, "disconnect", bId));
        await b.Closed.Within("the service to close b's connection");
        Assert.Equal("false", await AssertSucceedsAsync(cluster, "disconnect", bId));
    }

    internal static async Task<string> AssertSucceedsAsync(TestCluster cluster, params string[] command)
    {
        var (exitCode, output) = await cluster.RunServiceAsync(command);
        Assert.True(exitCode == 0, $"{string.Join(' ', command)} failed: {output}");
        return output.Split('\n')[^1].Trim();
    }

    internal static async Task<string[]> PresenceIdsAsync(TestCluster cluster, params string[] where)
    {
        var (exitCode, output) = await cluster.RunServiceAsync(["presence", .. where]);
        return exitCode != 0
            ? ["(failed)"]
            : JsonSerializer.Deserialize<JsonElement[]>(output.Split('\n')[^1])!.Select(p => p.GetProperty("connectionId").GetString()!).ToArray();
    }

    internal static string? Event(ReceivedInvocation e) => e.Arguments[0].GetProperty("event").GetString();
}

/// <summary>The same service, against a cluster of its own that the test breaks.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClientLibraryFaultTests
{
    [Fact]
    public async Task ServiceProcess_PresenceAfterAGatewayIsKilled_ShowsNoneOfItsConnections()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var survivor = await cluster.ConnectAsync(cluster.Gateways[0], "survivor");
        var doomed = await cluster.ConnectAsync(cluster.Gateways[1], "doomed");
        await survivor.InvokeAsync("Join", "lobby");
        await doomed.InvokeAsync("Join", "lobby");
        var survivorId = (await survivor.InvokeAsync("ConnectionId")).GetString()!;

        cluster.Gateways[1].Kill();
        await doomed.DisposeAsync();

        await Eventually.TrueAsync(
            async () => (await ClientLibraryTests.PresenceIdsAsync(cluster, "/", "lobby")).SequenceEqual([survivorId]) && (await ClientLibraryTests.PresenceIdsAsync(cluster, "/")).SequenceEqual([survivorId]),
            "presence shows only the survivor's connection",
            TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task ServiceProcess_OperationsWhileASiloIsDown_CompleteOrFailFast()
    {
        await using var cluster = await TestCluster.StartAsync();
        await using var a = await cluster.ConnectAsync(cluster.Gateways[0], "a");
        var aId = (await a.InvokeAsync("ConnectionId")).GetString()!;
        var rooms = Enumerable.Range(0, 8).Select(i => $"room{i}").ToArray();

        // What a service process costs to start, connect and make a call, with the cluster whole.
        var baselineStarted = DateTime.UtcNow;
        Assert.Equal(0, (await cluster.RunServiceAsync(["presence", "/", "room0"])).ExitCode);
        var baseline = DateTime.UtcNow - baselineStarted;

        cluster.Silos[0].Kill();

        // Before the silo is declared dead some grains are unreachable: every operation still ends within the
        // documented bound (Cluster:ResponseTimeout, 5 s, beyond what the process costs anyway; 2 s of margin for a
        // busy machine), with a result or with an error that says why. None hangs.
        var bound = baseline + TimeSpan.FromSeconds(5) + TimeSpan.FromSeconds(2);
        foreach (var command in rooms.Take(3).SelectMany(room => new[] { new[] { "join", aId, room }, ["leave", aId, room] }).Append(["disconnect", aId]))
        {
            var started = DateTime.UtcNow;
            var (exitCode, output) = await cluster.RunServiceAsync(command);
            Assert.True(DateTime.UtcNow - started < bound, $"{command[0]} took {(DateTime.UtcNow - started).TotalSeconds:0.#} s, over {bound.TotalSeconds:0.#} s");
            Assert.True(exitCode == 0 || output.Contains("GrainCallException") || output.Contains("TimeoutException") || output.Contains("OrleansMessageRejectionException"), output);
        }
    }
}
