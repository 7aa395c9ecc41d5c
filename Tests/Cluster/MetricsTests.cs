using System.Text.Json;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// <c>/metrics</c> on gateways and silos (OpenTelemetry, Prometheus text), scraped before and after known traffic;
/// and structured logs (<c>Logging:Console:FormatterName=json</c>). Each node is its own process, so its counters are
/// its own.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class MetricsTests
{
    private const int Messages = 5;

    [Fact]
    public async Task Scrape_CountersMoveByTheTrafficSent_OnBothGateways_AndSilosExportOrleansMeters()
    {
        string[] json = ["--Logging:Console:FormatterName=json", "--Api:Keys:0=a-test-api-key-0123456789", "--Cluster:Dashboard=true"];
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        var silo = await cluster.StartSiloAsync(json);
        var gatewayA = await cluster.StartGatewayAsync(json);
        var gatewayB = await cluster.StartGatewayAsync(json);
        var a = new Uri($"http://127.0.0.1:{gatewayA.Port}");
        var b = new Uri($"http://127.0.0.1:{gatewayB.Port}");

        await using var sender = await cluster.ConnectAsync(gatewayA, "json-1");
        await using var jsonMember = await cluster.ConnectAsync(gatewayA, "json-2");
        await using var packMember = await SignalRTestClient.ConnectAsync(new Uri(a, "/realtime"), "msgpack", messagePack: true);
        await using var socketIO = await SocketIOClients.StartAsync();
        var socketId = await socketIO.ConnectOrThrowAsync("io", b.ToString(), new { transports = new[] { "websocket" } });
        await sender.InvokeAsync("Join", "metered");
        await jsonMember.InvokeAsync("Join", "metered");
        await packMember.InvokeAsync("Join", "metered");
        using (var api = new HttpClient { BaseAddress = b, Timeout = TimeSpan.FromSeconds(10) })
        {
            api.DefaultRequestHeaders.Add("X-Api-Key", "a-test-api-key-0123456789");
            (await api.PutAsync($"api/v1/connections/{Uri.EscapeDataString(socketId)}/rooms/metered", null).Within("the socket.io socket to join")).EnsureSuccessStatusCode();
        }

        var beforeA = await PrometheusText.ScrapeAsync(a);
        var beforeB = await PrometheusText.ScrapeAsync(b);
        for (var i = 0; i < Messages; i++)
        {
            await sender.InvokeAsync("SendToRoom", "metered", "tick", new { i });
        }

        await jsonMember.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "tick", Messages);
        await packMember.WaitForAsync("event", e => e.Arguments[0].GetProperty("event").GetString() == "tick", Messages);
        await Eventually.True(() => socketIO.Received("io", "tick").Count == Messages, "the socket.io member receives every tick");
        var refused = await Assert.ThrowsAsync<HubErrorException>(() => sender.InvokeAsync("Join", "bad\u0007room"));
        Assert.Contains("Invalid room name", refused.Message);
        await sender.SendAsync("SendToRoom", "bad\u0007room", "tick", 0); // a send nobody waits for, refused
        var failed = (await sender.WaitForAsync("sendFailed"))[0].Arguments[0];
        Assert.Contains("Invalid room name", failed.GetProperty("reason").GetString());

        var afterA = await PrometheusText.ScrapeAsync(a);
        var afterB = await PrometheusText.ScrapeAsync(b);
        double Delta(PrometheusText before, PrometheusText after, string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);

        // Connections, by namespace, protocol and transport.
        Assert.Equal(2, afterA.Sum("realtime_gateway_connections", "namespace=/", "protocol=json", "transport=websockets"));
        Assert.Equal(1, afterA.Sum("realtime_gateway_connections", "protocol=messagepack"));
        Assert.Equal(1, afterB.Sum("realtime_gateway_connections", "protocol=socket.io", "transport=websocket"));

        // In: the sender's invocations (five sends, the refused join and the refused send). Out: one message per member.
        Assert.Equal(Messages + 2, Delta(beforeA, afterA, "realtime_gateway_messages_received_total", "protocol=json"));
        Assert.True(Delta(beforeA, afterA, "realtime_gateway_io_received_bytes_total", "protocol=json") > Messages * 50);
        Assert.Equal(2 * Messages + 1, Delta(beforeA, afterA, "realtime_gateway_messages_sent_total", "protocol=json")); // and sendFailed
        Assert.Equal(Messages, Delta(beforeA, afterA, "realtime_gateway_messages_sent_total", "protocol=messagepack"));
        Assert.Equal(Messages, Delta(beforeB, afterB, "realtime_gateway_messages_sent_total", "protocol=socket.io"));
        Assert.True(Delta(beforeA, afterA, "realtime_gateway_io_sent_bytes_total", "protocol=json") > 2 * Messages * 50);
        Assert.True(Delta(beforeA, afterA, "realtime_gateway_io_sent_bytes_total", "protocol=messagepack") > Messages * 20);

        // Deliveries from the room grain, one per gateway per message, each timed from the send.
        Assert.Equal(Messages, Delta(beforeA, afterA, "realtime_gateway_deliveries_total", "target=room"));
        Assert.Equal(Messages, Delta(beforeB, afterB, "realtime_gateway_deliveries_total", "target=room"));
        Assert.Equal(Messages + 1, Delta(beforeA, afterA, "realtime_gateway_send_to_write_duration_seconds_count")); // and sendFailed, to the sender
        Assert.Equal(Messages, Delta(beforeB, afterB, "realtime_gateway_send_to_write_duration_seconds_count"));
        Assert.Equal(Messages, Delta(beforeB, afterB, "realtime_gateway_send_to_write_duration_seconds_bucket", "le=+Inf"));

        // Refused input, by reason; and the send nobody waited for, which its connection was told of.
        Assert.Equal(2, Delta(beforeA, afterA, "realtime_gateway_rejected_total", "reason=invalid_input"));
        Assert.Equal(1, Delta(beforeA, afterA, "realtime_gateway_sends_failed_total", "reason=invalid_input"));

        // SignalR's own meter and Orleans' meters (the gateway's Orleans client; the silo's runtime).
        Assert.True(afterA.Has("signalr_server_active_connections"), "SignalR's connection gauge is exported");
        var siloMetrics = await PrometheusText.ScrapeAsync(new Uri($"http://127.0.0.1:{silo.Port}"));
        Assert.True(siloMetrics.Sum("orleans_catalog_activations") > 0, "the silo exports Orleans' activation count");

        // The Orleans Dashboard, turned on by Cluster:Dashboard on every node, on the silo's HTTP port.
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var page = await http.GetAsync($"http://127.0.0.1:{silo.Port}/dashboard").Within("the dashboard page");
            Assert.Equal(System.Net.HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("text/html", page.Content.Headers.ContentType?.ToString());
        }

        // Connections leave the gauge when they close.
        await socketIO.DisconnectAsync("io");
        await Eventually.TrueAsync(async () => (await PrometheusText.ScrapeAsync(b)).Sum("realtime_gateway_connections", "protocol=socket.io") == 0, "the socket.io connection leaves the gauge");

        // Structured logs: every line a node wrote to standard output is a JSON object.
        foreach (var node in new[] { silo, gatewayA, gatewayB })
        {
            var lines = node.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            Assert.All(lines, line => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(line).RootElement.ValueKind));
        }
    }
}
