using Realtime.Gateway.Http;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Browser;

/// <summary>
/// <c>Gateway:AllowedOrigins</c> in Chromium: a page of one origin connects to a gateway that lists it, and is refused
/// by one that does not, over SignalR (WebSocket and negotiate) and socket.io alike.
/// </summary>
public sealed class AllowedOriginsBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private TestGateway _pageOrigin = null!;
    private TestGateway _allowing = null!;
    private TestGateway _refusing = null!;

    public async Task InitializeAsync()
    {
        _pageOrigin = await TestGateway.StartAsync();
        var origin = $"http://{_pageOrigin.BaseUri.Authority}";
        _allowing = await TestGateway.StartAsync($"--Gateway:AllowedOrigins:0={origin}", "--SocketIO:CorsOrigins:0=*");
        _refusing = await TestGateway.StartAsync("--Gateway:AllowedOrigins:0=https://app.example.com", "--SocketIO:CorsOrigins:0=*");
    }

    public async Task DisposeAsync()
    {
        await _pageOrigin.DisposeAsync();
        await _allowing.DisposeAsync();
        await _refusing.DisposeAsync();
    }

    [Fact]
    public async Task PageOfAnotherOrigin_ConnectsWhereListed_IsRefusedElsewhere()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(_pageOrigin.BaseUri.ToString()).Within("the page to load");

        const string signalR = """
            async (url) => {
              for (const options of [{ skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets }, {}]) {
                const connection = new signalR.HubConnectionBuilder().withUrl(url, options).configureLogging(signalR.LogLevel.None).build();
                try { await connection.start(); await connection.stop(); } catch (e) { return "refused: " + e.message; }
              }
              return "connected";
            }
            """;
        Assert.Equal("connected", await page.EvaluateAsync<string>(signalR, $"http://{_allowing.BaseUri.Authority}/realtime").Within("SignalR to an allowing gateway"));
        Assert.StartsWith("refused", await page.EvaluateAsync<string>(signalR, $"http://{_refusing.BaseUri.Authority}/realtime").Within("SignalR to a refusing gateway"));

        const string polling = """
            async (url) => {
              try { return (await fetch(url + "/socket.io/?EIO=4&transport=polling")).status; }
              catch { return 0; } // the browser blocked it: a refusal carries no CORS headers
            }
            """;
        Assert.Equal(200, await page.EvaluateAsync<int>(polling, $"http://{_allowing.BaseUri.Authority}").Within("socket.io polling to an allowing gateway"));
        Assert.Equal(0, await page.EvaluateAsync<int>(polling, $"http://{_refusing.BaseUri.Authority}").Within("socket.io polling to a refusing gateway"));
    }
}
