using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;
using static Realtime.Tests.Infrastructure.EngineIOWebSocket;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// What a socket sees around its CONNECT answer, spoken by hand so that each packet's timing is the test's: nothing
/// comes before the answer, and nothing the client sends right after it (or right behind its CONNECT) is lost.
/// </summary>
public sealed class SocketIOConnectTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await TestGateway.StartWithAsync(services => services.ConfigureSocketIO(io => io.Sockets.OnConnection(socket =>
            socket.On("double", e => Task.FromResult((object?)(e.Args[0].GetInt32() * 2))))));

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task AnEventSentRightBehindTheConnect_WaitsForTheConnectionHandlers_AndIsAnswered()
    {
        // A client may emit the moment it has the CONNECT answer, while the gateway is still between sending that
        // answer and running the connection handlers that register the event's handler. Sending the event right
        // behind the CONNECT, before the answer, holds that window open for as long as the cluster takes to register
        // the socket: the event must wait for the handlers, not find none and be dropped unanswered.
        using var socket = await OpenAsync(_gateway.BaseUri);

        await SendAsync(socket, "40");
        await SendAsync(socket, "421[\"double\",21]");

        Assert.StartsWith("40{\"sid\":", await ReceiveAsync(socket), StringComparison.Ordinal);
        Assert.Equal("431[42]", await ReceiveAsync(socket));
    }

    [Fact]
    public async Task ABroadcastToTheNamespaceWhileASocketJoins_ComesAfterItsConnectAnswer()
    {
        // A socket gets its namespace's broadcasts from the moment it is registered, before the cluster has confirmed
        // it; a client drops events for a namespace it has not been told it is in, so they wait for the answer.
        var io = _gateway.Services.GetRequiredService<SocketIOServer>();
        using var stop = new CancellationTokenSource();
        var broadcasts = 0;
        var broadcasting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await io.Sockets.EmitAsync("tick", broadcasts);
                Interlocked.Increment(ref broadcasts);
            }
        });
        try
        {
            for (var i = 0; i < 30; i++)
            {
                using var socket = await OpenAsync(_gateway.BaseUri);
                await SendAsync(socket, "40");

                Assert.StartsWith("40{\"sid\":", await ReceiveAsync(socket), StringComparison.Ordinal);
                Assert.StartsWith("42[\"tick\",", await ReceiveAsync(socket), StringComparison.Ordinal);
            }
        }
        finally
        {
            stop.Cancel();
            await broadcasting.Within("the broadcasts to stop");
        }

        Assert.True(broadcasts > 30, $"the namespace was broadcast to throughout ({broadcasts} broadcasts)");
    }
}
