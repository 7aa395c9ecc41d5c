using Realtime.Runtime;
using Realtime.Runtime.Internal.Membership;
using Realtime.Runtime.Internal.Membership.Redis;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>One specification that every membership table backend must meet.</summary>
public abstract class MembershipTableSpecification
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    private protected abstract Task<IMembershipTable> CreateTableAsync();

    [Fact]
    public async Task TryInsert_NewRow_IsReadBackWithFirstETagAndBumpsTheVersion()
    {
        var table = await CreateTableAsync();
        var before = await table.ReadAllAsync(default).Within("read");

        Assert.True(await table.TryInsertAsync(Row("silo-a"), default).Within("insert"));

        var after = await table.ReadAllAsync(default).Within("read");
        var row = Assert.Single(after.Entries);
        Assert.Equal("silo-a", row.Name);
        Assert.Equal(1, row.ETag);
        Assert.Equal(MembershipStatus.Joining, row.Status);
        Assert.Equal(Start, row.IAmAlive);
        Assert.True(after.Version > before.Version);
    }

    [Fact]
    public async Task TryInsert_ExistingName_Fails()
    {
        var table = await CreateTableAsync();
        await table.TryInsertAsync(Row("silo-a"), default).Within("insert");

        Assert.False(await table.TryInsertAsync(Row("silo-a") with { Status = MembershipStatus.Active }, default).Within("second insert"));
        Assert.Equal(MembershipStatus.Joining, (await table.ReadAllAsync(default)).Find("silo-a")!.Status);
    }

    [Fact]
    public async Task TryUpdate_CurrentETag_StoresTheRowWithTheNextETag()
    {
        var table = await CreateTableAsync();
        await table.TryInsertAsync(Row("silo-a"), default).Within("insert");
        var suspicion = new Suspicion("silo-b", Start.AddSeconds(5));

        Assert.True(await table.TryUpdateAsync(Row("silo-a") with { Status = MembershipStatus.Active, Suspicions = [suspicion] }, 1, default).Within("update"));

        var row = (await table.ReadAllAsync(default)).Find("silo-a")!;
        Assert.Equal(2, row.ETag);
        Assert.Equal(MembershipStatus.Active, row.Status);
        Assert.Equal([suspicion], row.Suspicions);
    }

    [Fact]
    public async Task TryUpdate_TwoWritersWithTheSameETag_OnlyTheFirstWins()
    {
        var table = await CreateTableAsync();
        await table.TryInsertAsync(Row("silo-a"), default).Within("insert");
        var seen = (await table.ReadAllAsync(default)).Find("silo-a")!;

        var first = await table.TryUpdateAsync(seen with { Suspicions = [new Suspicion("silo-b", Start)] }, seen.ETag, default).Within("first writer");
        var second = await table.TryUpdateAsync(seen with { Status = MembershipStatus.Dead }, seen.ETag, default).Within("second writer");

        Assert.True(first);
        Assert.False(second);
        var row = (await table.ReadAllAsync(default)).Find("silo-a")!;
        Assert.Equal(MembershipStatus.Joining, row.Status);
        Assert.Single(row.Suspicions);
    }

    [Fact]
    public async Task TryUpdate_MissingRow_Fails()
    {
        var table = await CreateTableAsync();

        Assert.False(await table.TryUpdateAsync(Row("ghost"), 1, default).Within("update"));
        Assert.Empty((await table.ReadAllAsync(default)).Entries);
    }

    [Fact]
    public async Task UpdateIAmAlive_ChangesTheTimeButNotTheETag()
    {
        var table = await CreateTableAsync();
        await table.TryInsertAsync(Row("silo-a"), default).Within("insert");

        await table.UpdateIAmAliveAsync("silo-a", Start.AddMinutes(1), default).Within("i am alive");

        var row = (await table.ReadAllAsync(default)).Find("silo-a")!;
        Assert.Equal(Start.AddMinutes(1), row.IAmAlive);
        Assert.Equal(1, row.ETag);
        Assert.True(await table.TryUpdateAsync(row with { Status = MembershipStatus.Active }, 1, default).Within("update after i am alive"));
    }

    [Fact]
    public async Task ReadAll_ClientAndSiloRows_KeepTheirRoles()
    {
        var table = await CreateTableAsync();
        await table.TryInsertAsync(Row("127.0.0.1:11111@1"), default).Within("insert silo");
        await table.TryInsertAsync(Row("gw@2") with { Role = NodeRole.Client, Status = MembershipStatus.Active }, default).Within("insert client");

        var rows = (await table.ReadAllAsync(default)).Entries.OrderBy(e => e.Name, StringComparer.Ordinal).ToArray();

        Assert.Equal([NodeRole.Silo, NodeRole.Client], rows.Select(r => r.Role));
    }

    [Fact]
    public async Task DeleteDead_OnlyDeadRowsLastAliveBeforeTheCutoff_AreDeleted()
    {
        var table = await CreateTableAsync();
        foreach (var name in new[] { "old-dead", "recent-dead", "old-active" })
        {
            await table.TryInsertAsync(Row(name), default).Within("insert");
        }

        await table.TryUpdateAsync(Row("old-dead") with { Status = MembershipStatus.Dead }, 1, default).Within("kill old");
        await table.TryUpdateAsync(Row("recent-dead") with { Status = MembershipStatus.Dead }, 1, default).Within("kill recent");
        await table.UpdateIAmAliveAsync("recent-dead", Start.AddHours(2), default).Within("recent i am alive");

        var deleted = await table.DeleteDeadAsync(Start.AddHours(1), default).Within("delete dead");

        Assert.Equal(1, deleted);
        Assert.Equal(["old-active", "recent-dead"], (await table.ReadAllAsync(default)).Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
    }

    private protected static MembershipEntry Row(string name) =>
        new(name, NodeRole.Silo, MembershipStatus.Joining, Start, []) { IAmAlive = Start };
}

public sealed class InMemoryMembershipTableTests : MembershipTableSpecification
{
    private protected override Task<IMembershipTable> CreateTableAsync() => Task.FromResult<IMembershipTable>(new InMemoryMembershipTable());

    [Fact]
    public async Task ReadAll_Unavailable_ThrowsMembershipUnavailable()
    {
        var table = new InMemoryMembershipTable { Unavailable = true };

        await Assert.ThrowsAsync<MembershipUnavailableException>(() => table.ReadAllAsync(default));
    }
}

/// <summary>The same specification against a real redis-server, through our RESP client and Lua scripts.</summary>
public sealed class RedisMembershipTableTests(RedisFixture redis) : MembershipTableSpecification, IClassFixture<RedisFixture>
{
    private protected override Task<IMembershipTable> CreateTableAsync() =>
        Task.FromResult<IMembershipTable>(new RedisMembershipTable(new RespConnection("127.0.0.1", redis.Port, TimeSpan.FromSeconds(3)), Guid.NewGuid().ToString("N")));

    [Fact]
    public async Task ReadAll_NothingListening_ThrowsMembershipUnavailableNamingTheServer()
    {
        var port = NodeProcess.FreePort();
        var table = new RedisMembershipTable(new RespConnection("127.0.0.1", port, TimeSpan.FromSeconds(1)), "x");

        var error = await Assert.ThrowsAsync<MembershipUnavailableException>(() => table.ReadAllAsync(default).Within("a read with no server"));

        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task Execute_ServerRestarts_NextCommandReconnects()
    {
        await using var own = await RedisFixture.StartAsync();
        var connection = new RespConnection("127.0.0.1", own.Port, TimeSpan.FromSeconds(2));
        Assert.Equal("PONG", (await connection.ExecuteAsync(["PING"], default).Within("ping")).Text);

        own.Process.Kill();
        await own.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<MembershipUnavailableException>(() => connection.ExecuteAsync(["PING"], default).Within("ping while down"));
        await using var again = await RedisFixture.StartAsync(own.Port);

        Assert.Equal("PONG", (await connection.ExecuteAsync(["PING"], default).Within("ping after restart")).Text);
    }
}

/// <summary>A redis-server of the tests' own, on a free loopback port.</summary>
public sealed class RedisFixture : IAsyncLifetime, IAsyncDisposable
{
    public NodeProcess Process { get; private set; } = null!;

    public int Port => Process.Port;

    public static async Task<RedisFixture> StartAsync(int? port = null)
    {
        var fixture = new RedisFixture();
        await fixture.StartOnAsync(port ?? NodeProcess.FreePort());
        return fixture;
    }

    public Task InitializeAsync() => StartOnAsync(NodeProcess.FreePort());

    public async Task DisposeAsync() => await Process.DisposeAsync();

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    private async Task StartOnAsync(int port)
    {
        Process = NodeProcess.StartRedis(port);
        var connection = new RespConnection("127.0.0.1", port, TimeSpan.FromSeconds(1));
        await Eventually.True(() => Ping(connection), "redis-server answers", TimeSpan.FromSeconds(15));
    }

    private static bool Ping(RespConnection connection)
    {
        try
        {
            return connection.ExecuteAsync(["PING"], default).GetAwaiter().GetResult().Text == "PONG";
        }
        catch (MembershipUnavailableException)
        {
            return false;
        }
    }
}
