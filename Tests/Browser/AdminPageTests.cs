using System.Net;
using Microsoft.Playwright;
using Realtime.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Realtime.Tests.Browser;

/// <summary>The admin page in Chromium: it opens with the admin key only, follows a room's members live, closes the room and disconnects a connection.</summary>
public sealed class AdminPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private const string Key = "an-admin-key-0123456789";
    private static readonly LocatorAssertionsToHaveTextOptions Wait = new() { Timeout = 15_000 };

    private TestGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await TestGateway.StartAsync($"--Admin:Keys:0={Key}", "--Admin:RefreshInterval=00:00:00.2");

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task AdminPage_ShowsMemberCountsLive_ClosesARoom_AndDisconnectsAConnection()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_gateway.BaseUri, "/admin").ToString()).Within("the admin page to load");

        // A wrong key is refused; the right one opens the view.
        await page.FillAsync("#secret", "not-the-key-at-all");
        await page.ClickAsync("#sign-in");
        await Expect(page.Locator("#status")).ToContainTextAsync("refused", new() { Timeout = 15_000 });
        await page.FillAsync("#secret", Key);
        await page.ClickAsync("#sign-in");
        await Expect(page.Locator("#status")).ToHaveTextAsync("live", Wait);

        await using var alice = await _gateway.ConnectAsync("alice", "ops-floor");
        await alice.InvokeAsync("Join", "night-shift");
        var room = page.Locator("#rooms tr[data-namespace='/ops-floor'][data-room='night-shift']");
        await Expect(room.Locator("td.members")).ToHaveTextAsync("1", Wait);

        await using var bob = await _gateway.ConnectAsync("bob", "ops-floor");
        await bob.InvokeAsync("Join", "night-shift");
        await Expect(room.Locator("td.members")).ToHaveTextAsync("2", Wait);
        await Expect(page.Locator("#namespaces tr[data-namespace='/ops-floor'] td.connections")).ToHaveTextAsync("2", Wait);

        // Close the room from the page: both members are told, and the room leaves the list.
        await room.Locator("button.close-room").ClickAsync();
        await alice.WaitForAsync("roomClosed");
        await bob.WaitForAsync("roomClosed");
        await Expect(room).ToHaveCountAsync(0, new() { Timeout = 15_000 });

        // Disconnect a connection by its id.
        var bobId = (await bob.InvokeAsync("ConnectionId")).GetString()!;
        await page.FillAsync("#connection-id", bobId);
        await page.ClickAsync("#disconnect");
        await bob.Closed.Within("the admin page to disconnect bob");
        await Expect(page.Locator("#result")).ToContainTextAsync($"Disconnected {bobId}", new() { Timeout = 15_000 });
    }

    [Fact]
    public async Task AdminHub_WithoutTheKey_Is401()
    {
        using var http = new HttpClient { BaseAddress = _gateway.BaseUri, Timeout = TimeSpan.FromSeconds(10) };

        var anonymous = await http.PostAsync("/admin/hub/negotiate?negotiateVersion=1", null).Within("negotiate without a key");
        using var keyed = new HttpRequestMessage(HttpMethod.Post, "/admin/hub/negotiate?negotiateVersion=1") { Headers = { { "X-Admin-Key", Key } } };
        var withKey = await http.SendAsync(keyed).Within("negotiate with the key");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }
}
