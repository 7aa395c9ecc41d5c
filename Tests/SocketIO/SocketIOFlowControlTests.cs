using System.Collections.Concurrent;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// A client that emits faster than its handlers work is held back: at <c>SocketIO:MaxQueuedEvents</c> events waiting,
/// the gateway stops reading its connection, and takes up reading where it stopped when a handler finishes. Nothing is
/// dropped, and the order holds.
/// </summary>
public sealed class SocketIOFlowControlTests
{
    private const int Limit = 8;
    private const int Sent = 300;

    [Theory]
    [InlineData("websocket")]
    [InlineData("polling")]
    public async Task AFastClientWithSlowHandlers_IsHeldAtTheLimit_AndEveryEventIsHandledInOrder(string transport)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var connected = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new ConcurrentQueue<int>();
        await using var gateway = await TestGateway.StartWithAsync(
            services => services.ConfigureSocketIO(io => io.Sockets.OnConnection(socket =>
            {
                socket.On("work", async e =>
                {
                    await gate.Task;
                    handled.Enqueue(e.Args[0].GetInt32());
                });
                connected.TrySetResult(socket);
            })),
            $"--SocketIO:MaxQueuedEvents={Limit}");
        await using var clients = await SocketIOClients.StartAsync();
        await clients.ConnectOrThrowAsync("fast", gateway.BaseUri.ToString(), new { transports = new[] { transport } });
        var socket = await connected.Task.Within("the socket on the server");

        for (var i = 0; i < Sent; i++)
        {
            await clients.EmitAsync("fast", "work", i);
        }

        // Every event has left the client; the gateway read up to the limit (a polling POST may carry a few more,
        // read whole), and no more while the handler is stuck.
        await Eventually.True(() => socket.QueuedEvents >= Limit, "the events up to the limit to be read");
        var bound = transport == "websocket" ? Limit : Limit + 64;
        Assert.InRange(socket.QueuedEvents, Limit, bound);

        gate.SetResult();
        await Eventually.True(() => handled.Count == Sent, $"all {Sent} events to be handled", TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, Sent), handled);
        Assert.Equal(0, socket.QueuedEvents);
    }
}
