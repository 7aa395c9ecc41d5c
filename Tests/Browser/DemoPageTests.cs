using Microsoft.Playwright;
using Realtime.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Realtime.Tests.Browser;

/// <summary>The demo page in a real browser, with the SignalR browser client the gateway serves from the npm package.</summary>
public sealed class DemoPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private static readonly LocatorAssertionsToContainTextOptions Wait = new() { Timeout = 15_000 };

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync();

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task DemoPage_TwoPagesInOneRoom_MessageFromOneAppearsInTheOther()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var sender = await OpenConnectedPageAsync(context);
        var receiver = await OpenConnectedPageAsync(context);
        foreach (var page in new[] { sender, receiver })
        {
            await page.FillAsync("#room", "lobby");
            await page.ClickAsync("#join");
            await Expect(page.Locator("#rooms")).ToContainTextAsync("lobby", Wait);
        }

        var text = $"hello from the browser {Guid.NewGuid():N}";
        await sender.FillAsync("#send-room", "lobby");
        await sender.FillAsync("#send-data", text);
        await sender.ClickAsync("#send");

        await Expect(receiver.Locator("#log")).ToContainTextAsync(text, Wait);
        await Expect(receiver.Locator("#log")).ToContainTextAsync("in room lobby", Wait);
    }

    [Fact]
    public async Task DemoPage_CloseRoom_OtherPageIsToldAndLeavesIt()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var closer = await OpenConnectedPageAsync(context);
        var member = await OpenConnectedPageAsync(context);
        foreach (var page in new[] { closer, member })
        {
            await page.FillAsync("#room", "to-close");
            await page.ClickAsync("#join");
            await Expect(page.Locator("#rooms")).ToContainTextAsync("to-close", Wait);
        }

        await closer.ClickAsync("#close-room");

        await Expect(member.Locator("#log")).ToContainTextAsync("room to-close was closed", Wait);
        await Expect(member.Locator("#rooms")).ToHaveTextAsync("none", new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task DemoPage_InvalidRoomName_ShowsTheServersError()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await OpenConnectedPageAsync(context);

        await page.FillAsync("#room", new string('x', 201));
        await page.ClickAsync("#join");

        await Expect(page.Locator("#log .error")).ToContainTextAsync("at most 200 characters", Wait);
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected");
    }

    private async Task<IPage> OpenConnectedPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(_gateway.BaseUri.ToString());
        await page.ClickAsync("#connect");
        await Expect(page.Locator("#status")).ToHaveTextAsync("connected", new() { Timeout = 15_000 });
        await Expect(page.Locator("#connection-id")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^as \\S{10,}$"), new() { Timeout = 15_000 });

        // Which gateway the tab reached, by its name and silo.
        await Expect(page.Locator("#gateway")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^to gateway \\S+@\\S+$"), new() { Timeout = 15_000 });
        return page;
    }
}
