using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Client.Operations;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>SignalR client results: the server asks one connection and waits for the client's answer, with a timeout.</summary>
public sealed class ClientResultTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private IRealtimeCluster Cluster => fixture.Gateway.Services.GetRequiredService<IRealtimeCluster>();

    [Fact]
    public async Task InvokeClient_ClientAnswers_ReturnsTheAnswer()
    {
        await using var client = await fixture.Gateway.ConnectAsync("client");
        client.Answer("getLocation", 1, args => new { city = "Oslo", asked = args[0].GetString() });
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;

        var answer = await Cluster.InvokeClientAsync(id, "getLocation", ["precise"], TimeSpan.FromSeconds(5)).Within("the client's answer");

        Assert.Equal("Oslo", answer.GetProperty("city").GetString());
        Assert.Equal("precise", answer.GetProperty("asked").GetString());
    }

    [Fact]
    public async Task InvokeClient_ClientAnswersWithAnError_ThrowsItsMessage()
    {
        await using var client = await fixture.Gateway.ConnectAsync("client");
        client.Answer("getLocation", 0, _ => throw new InvalidOperationException("location is off"));
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;

        var error = await Assert.ThrowsAsync<HubException>(() => Cluster.InvokeClientAsync(id, "getLocation", [], TimeSpan.FromSeconds(5)).Within("the client's error"));

        Assert.Contains("location is off", error.Message);
    }

    [Fact]
    public async Task InvokeClient_ClientNeverAnswers_TimesOutWithAClearError()
    {
        await using var client = await fixture.Gateway.ConnectAsync("silent");
        client.AnswerLater("getLocation", 0, _ => new TaskCompletionSource<object?>().Task); // never answers
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Cluster.InvokeClientAsync(id, "getLocation", [], TimeSpan.FromMilliseconds(500)).Within("the timeout"));

        Assert.Contains("did not answer getLocation within 0.5 s", error.Message);
        await client.InvokeAsync("Echo", "still", "works"); // the connection goes on
    }

    [Fact]
    public async Task InvokeClient_ConnectionCloses_FailsAtOnce()
    {
        var client = await fixture.Gateway.ConnectAsync("leaving");
        client.AnswerLater("getLocation", 0, _ => new TaskCompletionSource<object?>().Task); // never answers
        var id = (await client.InvokeAsync("ConnectionId")).GetString()!;

        var call = Cluster.InvokeClientAsync(id, "getLocation", [], TimeSpan.FromSeconds(20));
        await client.WaitForAsync("getLocation");
        await client.DisposeAsync();

        var error = await Assert.ThrowsAsync<HubException>(() => call.Within("the call to fail"));
        Assert.Contains("closed before the client answered", error.Message);
    }

    [Fact]
    public async Task HubContextClientInvokeAsync_ThroughTheGrainBackedLifetimeManager_ReturnsTheAnswer()
    {
        await using var client = await fixture.Gateway.ConnectChatAsync("chat-client");
        client.Answer("confirm", 1, args => args[0].GetInt32() * 2);
        var id = (await client.InvokeAsync("WhoAmI")).GetString()!;
        var hub = fixture.Gateway.Services.GetRequiredService<IHubContext<ChatTestHub>>();

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var answer = await hub.Clients.Client(id).InvokeAsync<int>("confirm", 21, timeout.Token).Within("the answer");

        Assert.Equal(42, answer);
    }

    [Fact]
    public async Task InvokeClient_UnknownConnection_FailsClearly()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Cluster.InvokeClientAsync("nobody", "x", [], TimeSpan.FromSeconds(1)).Within("the failure"));

        Assert.Contains("is not open", error.Message);
    }
}
