using System.Net.Sockets;
using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// The Aspire app host (<c>AppHost/</c>), started as a user would start it, headless: Redis, two silos and two
/// gateways become healthy, a message crosses the gateways and reaches a client behind the load balancer, the
/// dashboard answers, and stopping the app host stops
/// every node. Where no container runtime answers (this machine), Redis runs as <c>redis-server</c>, and it says so.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AppHostTests
{
    [Fact]
    public async Task TheAppHost_StartsRedisTwoSilosTwoGatewaysAndTheLoadBalancer_Healthy_AndAMessageCrossesTheGateways()
    {
        // Ports below Linux's ephemeral range, so that no other test's free port falls among the nodes'.
        var first = 20000 + (Random.Shared.Next(0, 40) * 100);
        var dashboard = NodeProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{dashboard}",
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = $"http://127.0.0.1:{NodeProcess.FreePort()}",
            ["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://127.0.0.1:{NodeProcess.FreePort()}",
            ["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true",
            ["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true", // the dashboard's telemetry API without a login
        };
        int[] gateways = [first + 1, first + 2];
        int[] silos = [first + 81, first + 82];
        var appHost = NodeProcess.Start("apphost", "dotnet", [Build.Output("AppHost", "Realtime.AppHost.dll"), $"--Realtime:FirstPort={first}"], dashboard, environment);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.TrueAsync(
                async () => !appHost.HasExited && await RedisAnswersAsync(first + 1380) && (await Task.WhenAll(gateways.Concat(silos).Select(p => ReadyAsync(http, p)))).All(r => r),
                "Redis and every node to be healthy",
                TimeSpan.FromSeconds(120));
            if (appHost.Output.Contains("No container runtime answers", StringComparison.Ordinal))
            {
                Assert.Contains("redis runs as redis-server", appHost.Output, StringComparison.Ordinal);
            }

            await using var a = await SignalRTestClient.ConnectAsync(new Uri($"http://127.0.0.1:{gateways[0]}/realtime"), "a");
            await using var b = await SignalRTestClient.ConnectAsync(new Uri($"http://127.0.0.1:{gateways[1]}/realtime"), "b");

            // Through the load balancer (nginx, which the tests install), a client reaches one of the gateways too.
            await Eventually.True(() => NodeProcess.CanConnect(first), "the load balancer to listen", TimeSpan.FromSeconds(30));
            await using var c = await SignalRTestClient.ConnectAsync(new Uri($"ws://127.0.0.1:{first}/realtime"), "c"); // WebSockets, no negotiation: no stickiness needed
            await c.InvokeAsync("Join", "lobby");
            await a.InvokeAsync("Join", "lobby");
            await b.InvokeAsync("Join", "lobby");
            await a.InvokeAsync("SendToRoom", "lobby", "hello", "from gateway1");
            await b.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "hello");
            await c.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "hello");
            Assert.NotEqual(
                (await a.InvokeAsync("Gateway")).GetString(),
                (await b.InvokeAsync("Gateway")).GetString());

            // The dashboard, where each node's logs, metrics and traces go: every node sends traces and metrics under its
            // own resource name, and the room message's delivery on the receiving gateway is among the traces.
            Assert.True((await http.GetAsync($"http://127.0.0.1:{dashboard}/").Within("the dashboard")).IsSuccessStatusCode);
            string[] nodes = ["gateway1", "gateway2", "silo1", "silo2"];
            await Eventually.TrueAsync(
                async () =>
                {
                    using var resources = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{dashboard}/api/telemetry/resources"));
                    var reporting = resources.RootElement.EnumerateArray()
                        .Where(r => r.GetProperty("hasTraces").GetBoolean() && r.GetProperty("hasMetrics").GetBoolean())
                        .Select(r => r.GetProperty("name").GetString())
                        .ToHashSet();
                    return nodes.All(reporting.Contains);
                },
                "every node's traces and metrics in the dashboard, under its own name",
                TimeSpan.FromSeconds(30));
            // Every span of the gateway, not the API's default page of the 100 latest: Orleans' own (timers, membership)
            // fill that within seconds.
            await Eventually.TrueAsync(
                async () => (await http.GetStringAsync($"http://127.0.0.1:{dashboard}/api/telemetry/spans?resource=gateway2&limit=100000")).Contains("realtime deliver", StringComparison.Ordinal),
                "the delivery on the receiving gateway in the dashboard's traces",
                TimeSpan.FromSeconds(30));
        }
        finally
        {
            appHost.Signal("TERM");
            await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60));
            await appHost.DisposeAsync();
        }

        // Aspire stops every node it started once its app host has gone.
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.TrueAsync(
            async () => !(await Task.WhenAll(gateways.Concat(silos).Select(p => ReadyAsync(probe, p)))).Any(r => r) && !await RedisAnswersAsync(first + 1380),
            "every node to stop with the app host",
            TimeSpan.FromSeconds(60));
    }

    private static async Task<bool> ReadyAsync(HttpClient http, int port)
    {
        try
        {
            return (await http.GetAsync($"http://127.0.0.1:{port}/healthz/ready")).IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task<bool> RedisAnswersAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync("127.0.0.1", port, timeout.Token);
            await client.GetStream().WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[8];
            return await client.GetStream().ReadAsync(buffer, timeout.Token) > 0;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
