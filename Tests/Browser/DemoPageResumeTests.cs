using Microsoft.Playwright;
using Realtime.Tests.Cluster;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using static Microsoft.Playwright.Assertions;

namespace Realtime.Tests.Browser;

/// <summary>
/// The demo page in Chromium behind round-robin nginx over two gateways: when its gateway is killed, the page
/// reconnects through the other one, resumes its session and shows what was sent to its room meanwhile. The rooms live
/// on the silo without connections (`Cluster:GrainPlacement=GrainSilos`), so that the room outlives the gateway.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class DemoPageResumeTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToContainTextOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task GatewayKilled_ThePageReconnectsThroughTheOther_AndShowsWhatItMissed()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 2, gatewayArguments: TestCluster.GrainsOnSilos, siloArguments: TestCluster.GrainsOnSilos);
        await using var nginx = await Nginx.StartAsync(cluster.Gateways);
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{nginx.Port}/").Within("the page through nginx");
        await page.ClickAsync("#connect");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected", new() { Timeout = 15_000 });
        await page.FillAsync("#room", "lobby");
        await page.ClickAsync("#join");
        await Expect(page.Locator("#rooms")).ToContainTextAsync("lobby", Wait);

        // Which gateway holds the page: the other one carries the sender, and survives.
        await using var probe = await cluster.ConnectAsync(cluster.Gateways[0], "probe");
        var pageGateway = (await probe.InvokeAsync<Presence[]>("Presence", "lobby")).Single().GatewayId;
        var doomed = cluster.Gateways.Single(g => pageGateway.StartsWith(g.Name + "@", StringComparison.Ordinal));
        var survivor = cluster.Gateways.Single(g => g != doomed);
        await using var sender = await cluster.ConnectAsync(survivor, "sender");
        await sender.InvokeAsync("SendToRoom", "lobby", "before", "seen live");
        await Expect(page.Locator("#log")).ToContainTextAsync("before in room lobby", Wait);

        doomed.Kill();
        await sender.InvokeAsync("SendToRoom", "lobby", "while-away", "missed and replayed");

        await Expect(page.Locator("#log")).ToContainTextAsync("resumed: 1 missed message(s) replayed", Wait);
        await Expect(page.Locator("#log")).ToContainTextAsync("while-away in room lobby", Wait);
        await sender.InvokeAsync("SendToRoom", "lobby", "after", "live again");
        await Expect(page.Locator("#log")).ToContainTextAsync("after in room lobby", Wait);
        Assert.Equal(1, await page.Locator("#log li", new() { HasTextString = "while-away in room lobby" }).CountAsync());
    }

    private sealed record Presence(string ConnectionId, string? UserId, string GatewayId);
}
