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
        await Expect(page.Locator("#login-error")).ToHaveTextAsync("That key or token was not accepted. Check it and try again.", new() { Timeout = 15_000 });
        await Expect(page.Locator("#login-error")).Not.ToContainTextAsync("negotiat");
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

        // A burst of 25 messages still shows as a rate afterwards (averaged over Admin:RateWindow, not the last
        // snapshot only), on the room and on its gateway, and each has its chart of the last minutes.
        for (var i = 0; i < 25; i++)
        {
            await alice.InvokeAsync("SendToRoom", "night-shift", "tick", i);
        }

        await bob.WaitForAsync("event", e => e.Arguments[0].GetProperty("data").GetInt32() == 24);
        await Expect(room.Locator("td.rate")).Not.ToHaveTextAsync("0.0", Wait);
        var gateway = page.Locator("#gateways tr td.rate").First;
        await Expect(gateway).Not.ToHaveTextAsync("0.0", Wait);
        var ticksAt = DateTime.UtcNow;
        await Expect(room.Locator("svg.spark polyline")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        await Expect(page.Locator("#gateways svg.spark")).ToHaveCountAsync(2, new() { Timeout = 15_000 });

        // Three seconds on (the page refreshes every 0.2 s here), the burst still counts: the property is one of time.
        await Eventually.True(() => DateTime.UtcNow - ticksAt > TimeSpan.FromSeconds(3), "three seconds to pass", TimeSpan.FromSeconds(10));
        await Expect(room.Locator("td.rate")).Not.ToHaveTextAsync("0.0", Wait);

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
