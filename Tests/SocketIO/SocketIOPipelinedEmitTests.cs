using Microsoft.Extensions.DependencyInjection;
using Realtime.Contracts;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// A socket's emits to rooms and its namespace, made by the handlers of events whose client passed no callback, are
/// pipelined as SignalR sends are (<c>Gateway:PipelinedSends</c>): the socket goes on to its next event while they are
/// on their way, they reach the rooms in the order they were made, and one the cluster does not take is told to the
/// client as <c>realtime:sendFailed</c>. An event with a callback waits for what it sends. The room grains are held
/// or failed by a grain call filter, as a slow or failing silo would.
/// </summary>
public sealed class SocketIOPipelinedEmitTests : IAsyncLifetime
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private readonly RoomGate _gate;
    private TestGateway _gateway = null!;
    private SocketIOClients _clients = null!;

    public SocketIOPipelinedEmitTests() => _gate = new RoomGate(_log);

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartWithAsync(services =>
        {
            services.AddSingleton<Orleans.IIncomingGrainCallFilter>(_gate);
            services.ConfigureSocketIO(io => io.Sockets.OnConnection(socket =>
            {
                socket.On("join", async e =>
                {
                    await socket.JoinAsync(e.Args[0].GetString()!);
                    return (object?)"joined";
                });
                socket.On("say", async e =>
                {
                    var (room, text) = (e.Args[0].GetString()!, e.Args[1].GetString()!);
                    await socket.Namespace.To(room).EmitAsync("said", text);
                    _log.Enqueue("emitted " + text);
                    await socket.EmitAsync("handled", text);
                    await e.AckAsync("done");
                });
            }));
        });
        _clients = await SocketIOClients.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _gate.Open();
        await _clients.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task TheSocketGoesOnWhileItsEmitIsOnItsWay_AndItsEmitsArriveInOrder()
    {
        await ConnectInRoomAsync("slow");

        _gate.Hold("slow");
        await _clients.EmitAsync("a", "say", "slow", "first");
        await _clients.EmitAsync("a", "say", "slow", "second");

        // Both handlers ran while the room had the first emit and did not answer.
        await _clients.WaitForAsync("a", "handled", args => args[0].GetString() == "second");
        Assert.Empty(_clients.Received("a", "said"));

        _gate.Open();
        await _clients.WaitForAsync("a", "said", args => args[0].GetString() == "second");
        Assert.Equal(["first", "second"], _clients.Received("a", "said").Select(args => args[0].GetString()));
    }

    [Fact]
    public async Task AnEventWithACallback_IsAnsweredOnlyOnceWhatItSentWasTaken()
    {
        await ConnectInRoomAsync("slow");

        _gate.Hold("slow");
        var answered = _clients.EmitWithAckAsync("a", "say", "slow", "waited");
        await _gate.Reached.Within("the emit to reach the room");
        _gate.Open();

        Assert.Equal("done", (await answered.Within("the answer"))[0].GetString());
        Assert.Equal(["held slow", "opened", "emitted waited"], _log);
        await _clients.WaitForAsync("a", "said", args => args[0].GetString() == "waited");
    }

    [Fact]
    public async Task AnEmitTheClusterDoesNotTake_IsToldToTheClient_AndTheSocketGoesOn()
    {
        await ConnectInRoomAsync("fine");
        _gate.Fail("doomed");

        await _clients.EmitAsync("a", "say", "doomed", "lost");
        var failed = (await _clients.WaitForAsync("a", Socket.SendFailedEvent))[0];
        Assert.Equal("doomed", failed.GetProperty("room").GetString());
        Assert.Equal("said", failed.GetProperty("event").GetString());
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("reason").GetString()));

        await _clients.EmitAsync("a", "say", "fine", "next");
        await _clients.WaitForAsync("a", "said", args => args[0].GetString() == "next");
        Assert.Single(_clients.Received("a", Socket.SendFailedEvent));
    }

    /// <summary>Connects the client "a" and has it join <paramref name="room"/>.</summary>
    private async Task ConnectInRoomAsync(string room)
    {
        await _clients.ConnectOrThrowAsync("a", _gateway.BaseUri.ToString());
        await _clients.EmitWithAckAsync("a", "join", room).Within("the join");
    }

    /// <summary>Holds, or fails, the publishing calls to the rooms it is told of.</summary>
    private sealed class RoomGate(System.Collections.Concurrent.ConcurrentQueue<string> log) : Orleans.IIncomingGrainCallFilter
    {
        private volatile string? _held;
        private volatile string? _failing;
        private TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when a held room has a publishing call waiting.</summary>
        public Task Reached => _reached.Task;

        public void Hold(string room)
        {
            _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held = room;
        }

        public void Open()
        {
            if (!_open.Task.IsCompleted)
            {
                log.Enqueue("opened");
                _open.TrySetResult();
            }
        }

        public void Fail(string room) => _failing = room;

        public async Task Invoke(Orleans.IIncomingGrainCallContext context)
        {
            if (context.Grain is IRoomGrain && context.InterfaceMethod?.Name is nameof(IRoomGrain.Publish) or nameof(IRoomGrain.PublishAll))
            {
                var room = GrainKeys.RoomName(context.TargetId.Key.ToString()!);
                if (_failing == room)
                {
                    throw new InvalidOperationException("The room's silo refused the message (a fault the test injects).");
                }

                if (_held == room && !_open.Task.IsCompleted)
                {
                    log.Enqueue("held " + room);
                    _reached.TrySetResult();
                    await _open.Task;
                }
            }

            await context.Invoke();
        }
    }
}
