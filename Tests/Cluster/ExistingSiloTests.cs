using Microsoft.Extensions.DependencyInjection;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// <c>samples/ExistingSilo</c>: an application's own silo, with its own clustering, storage and grains, joins a realtime
/// cluster and hosts the realtime grains with <c>AddRealtimeGrains</c>; one of its grains sends to a room, the room's
/// members on a gateway (another process) get the event, and the room's grain is active on the application's silo.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ExistingSiloTests
{
    [Fact]
    public async Task AnApplicationsOwnGrain_SendsToARoom_ThroughTheRealtimeGrainsItsSiloHosts()
    {
        // Groups live on silos without connections: here, the application's own silo, which says so in its metadata.
        string[] grainsOnSilos = ["--Cluster:GrainPlacement=GrainSilos"];
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 1, gatewayArguments: grainsOnSilos);
        var port = NodeProcess.FreePort();
        var siloPort = NodeProcess.FreePort();
        await using var app = NodeProcess.Start(
            "existing-silo",
            "dotnet",
            [
                Build.Output(Path.Combine("samples", "ExistingSilo"), "Realtime.Samples.ExistingSilo.dll"), .. cluster.ClusterArguments(),
                $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={NodeProcess.FreePort()}", $"--Urls=http://127.0.0.1:{port}", .. grainsOnSilos,
            ],
            port);
        await Eventually.True(() => app.Output.Contains("Application started", StringComparison.Ordinal) || app.HasExited, "the application's silo to start", TimeSpan.FromSeconds(60));
        Assert.False(app.HasExited, app.Output);

        await using var member = await cluster.ConnectAsync(cluster.Gateways[0], "fan");
        await member.InvokeAsync("Join", "scoreboard");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };

        var answer = await http.PostAsync("/score/ann/3", null).Within("the score");
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        Assert.Equal("3", await answer.Content.ReadAsStringAsync());

        var score = await member.WaitForEventAsync("score");
        Assert.Equal("ann", score.GetProperty("data").GetProperty("player").GetString());
        Assert.Equal(3, score.GetProperty("data").GetProperty("total").GetInt32());

        // The room's grain is one of the realtime grains the application's silo hosts.
        var grains = (await cluster.OrleansClientAsync()).GetRequiredService<IGrainFactory>();
        var room = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain(GrainId.Parse(TestCluster.RoomGrain("scoreboard")))).AsTask().Within("where the room lives");
        Assert.Equal(siloPort, room?.Endpoint.Port);
    }
}
