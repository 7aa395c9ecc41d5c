using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.Hosting;
using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Infrastructure;

/// <summary>
/// A real gateway (embedded silo) on Kestrel, bound to a free loopback port, with <see cref="ChatTestHub"/> mapped at
/// <c>/chat</c> beside the RealtimeHub, and the user of a connection taken from its <c>user</c> query parameter.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public IServiceProvider Services => _app.Services;

    public static Task<TestGateway> StartAsync(params string[] settings) => StartWithAsync(null, settings);

    /// <summary>Starts a gateway with services of the test's own (<paramref name="services"/>) added.</summary>
    public static async Task<TestGateway> StartWithAsync(Action<IServiceCollection>? services, params string[] settings)
    {
        string[] args = ["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.AspNetCore.SignalR=None", .. settings];
        var app = GatewayApplication.Build(
            args,
            builder =>
            {
                builder.Services.AddSingleton<IUserIdProvider, QueryUserIdProvider>();
                services?.Invoke(builder.Services);
            },
            app => app.MapHub<ChatTestHub>("/chat"));
        await app.StartAsync().Within("the gateway to start", TimeSpan.FromSeconds(30));
        var address = app.Urls.Single();
        return new TestGateway(app, new Uri(address));
    }

    /// <summary>The WebSocket address of the RealtimeHub in <paramref name="namespace"/> ("" or null for the default one).</summary>
    public Uri HubUri(string? @namespace = null, string? user = null, string path = "/realtime")
    {
        var uri = $"ws://{BaseUri.Authority}{path}";
        if (!string.IsNullOrEmpty(@namespace))
        {
            uri += "/" + Uri.EscapeDataString(@namespace.TrimStart('/'));
        }

        return new Uri(user is null ? uri : $"{uri}?user={Uri.EscapeDataString(user)}");
    }

    public Task<SignalRTestClient> ConnectAsync(string name, string? @namespace = null, string? user = null) =>
        SignalRTestClient.ConnectAsync(HubUri(@namespace, user), name);

    /// <summary>A hand-written protocol client, for tests that send malformed frames.</summary>
    public Task<RawHubClient> ConnectRawAsync(string name, string? @namespace = null, string? user = null) =>
        RawHubClient.ConnectAsync(HubUri(@namespace, user), name);

    public Task<SignalRTestClient> ConnectChatAsync(string name, string? user = null) =>
        SignalRTestClient.ConnectAsync(HubUri(null, user, "/chat"), name);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().Within("the gateway to stop", TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
    }

    private sealed class QueryUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) =>
            connection.GetHttpContext()?.Request.Query["user"] is { Count: > 0 } user
                ? user.ToString()
                : connection.User?.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value;
    }
}

/// <summary>An ordinary SignalR hub, written as any SignalR application would, to show that its calls go through grains.</summary>
public sealed class ChatTestHub : Hub
{
    public string WhoAmI() => Context.ConnectionId;

    public Task JoinGroup(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);

    public Task LeaveGroup(string group) => Groups.RemoveFromGroupAsync(Context.ConnectionId, group);

    public Task SendToGroup(string group, string text) => Clients.Group(group).SendAsync("chat", text);

    public Task SendToGroups(string[] groups, string text) => Clients.Groups(groups).SendAsync("chat", text);

    public Task SendToOthersInGroup(string group, string text) => Clients.OthersInGroup(group).SendAsync("chat", text);

    public Task SendToAll(string text) => Clients.All.SendAsync("chat", text);

    public Task SendToOthers(string text) => Clients.Others.SendAsync("chat", text);

    public Task SendToUser(string user, string text) => Clients.User(user).SendAsync("chat", text);

    public Task SendToClient(string connectionId, string text) => Clients.Client(connectionId).SendAsync("chat", text);
}
