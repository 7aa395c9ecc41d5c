using Microsoft.Playwright;
using Realtime.Tests.Cluster;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;
using static Microsoft.Playwright.Assertions;

namespace Realtime.Tests.Browser;

/// <summary>
/// The socket.io sample's test page in Debian's Chromium, one page on each of two gateways of a cluster, with the
/// socket.io browser client the gateways serve from the npm package.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class SocketIOTestPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToContainTextOptions Wait = new() { Timeout = 15_000 };

    [Fact]
    public async Task TwoPagesOnTwoGateways_ARoomMessageFromOneAppearsInTheOther()
    {
        await using var cluster = await TestCluster.StartAsync(silos: 1, gateways: 2, gatewayProgram: TestCluster.SocketIOTestPage);
        await using var context = await browser.Browser.NewContextAsync();
        var sender = await OpenAsync(context, cluster.Gateways[0]);
        var receiver = await OpenAsync(context, cluster.Gateways[1]);
        foreach (var page in new[] { sender, receiver })
        {
            await page.FillAsync("#join_room", "lobby");
            await page.ClickAsync("#join input[type=submit]");
            await Expect(page.Locator("#log")).ToContainTextAsync(", lobby", Wait);
        }

        var text = $"hello from the browser {Guid.NewGuid():N}";
        await sender.FillAsync("#room_name", "lobby");
        await sender.FillAsync("#room_data", text);
        await sender.ClickAsync("#send_room input[type=submit]");

        await Expect(receiver.Locator("#log")).ToContainTextAsync(text, Wait);
        await Expect(sender.Locator("#log")).ToContainTextAsync(text, Wait);

        // The latency display works: the server acknowledges the page's pings.
        await Expect(receiver.Locator("#ping-pong")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^\\d+$"), new() { Timeout = 15_000 });
    }

    private static async Task<IPage> OpenAsync(IBrowserContext context, NodeProcess gateway)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{gateway.Port}/");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected", new() { Timeout = 15_000 });
        await Expect(page.Locator("#log")).ToContainTextAsync("Received #0: Connected", Wait);
        return page;
    }
}
