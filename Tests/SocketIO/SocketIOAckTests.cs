using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// Acknowledging a client's callback: a handler that returns a value answers with it (flask-socketio's way); one that
/// returns nothing answers only when it acknowledges itself (socket.io's way); one that fails answers with the error.
/// </summary>
public sealed class SocketIOAckTests : IAsyncLifetime
{
    private TestGateway _gateway = null!;
    private SocketIOClients _clients = null!;

    public async Task InitializeAsync()
    {
        _gateway = await TestGateway.StartWithAsync(services => services.ConfigureSocketIO(io => io.Sockets.OnConnection(socket =>
        {
            socket.On("double", async e =>
            {
                await Task.Yield();
                return (object?)(e.Args[0].GetInt32() * 2);
            });
            socket.On("nothing", async e =>
            {
                await Task.Yield();
                return null;
            });
            socket.On("manual", e => e.AckAsync("by hand"));
            socket.On("echo", e => Task.FromResult<object?>(e.Args[0]));
            socket.On("fails", e => throw new InvalidOperationException("a bug of the application's"));
            socket.On("bad room", e => socket.JoinAsync(""));
        })));
        _clients = await SocketIOClients.StartAsync();
        await _clients.ConnectOrThrowAsync("io", _gateway.BaseUri.ToString(), new { transports = new[] { "websocket" } });
    }

    public async Task DisposeAsync()
    {
        await _clients.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    [Fact]
    public async Task AHandlersReturnValue_AnswersTheCallback()
    {
        var answer = await _clients.EmitWithAckAsync("io", "double", 21);

        Assert.Equal(42, answer[0].GetInt32());
    }

    [Fact]
    public async Task AnEventsText_ReachesTheHandlerAsTheClientSentIt_WhateverItsCharacters()
    {
        // Read from the WebSocket frame's UTF-8: characters of two to four bytes, escapes, and a JSON object.
        const string text = "caf\u00e9 \u20ac \ud83d\ude00 \"quoted\" back\\slash \u2028 line";
        var sent = new { text, nested = new[] { "\u00fc", "\u4e2d" } };

        var answer = await _clients.EmitWithAckAsync("io", "echo", sent);

        Assert.Equal(text, answer[0].GetProperty("text").GetString());
        Assert.Equal("\u4e2d", answer[0].GetProperty("nested")[1].GetString());
    }

    [Fact]
    public async Task AHandlerReturningNull_AnswersWithNoArguments()
    {
        var answer = await _clients.EmitWithAckAsync("io", "nothing");

        Assert.Equal(0, answer.GetArrayLength());
    }

    [Fact]
    public async Task AHandlerThatFails_AnswersTheCallbackWithAnError_AndTheSocketGoesOn()
    {
        var failed = await _clients.EmitWithAckAsync("io", "fails");
        Assert.Equal("The server could not handle the event.", failed[0].GetProperty("error").GetString());

        // Bad input the handler passed on is named.
        var refused = await _clients.EmitWithAckAsync("io", "bad room");
        Assert.StartsWith("Invalid room name:", refused[0].GetProperty("error").GetString(), StringComparison.Ordinal);

        Assert.Equal(4, (await _clients.EmitWithAckAsync("io", "double", 2))[0].GetInt32());
    }

    [Fact]
    public async Task AHandlerThatAcknowledgesItself_IsAnsweredOnce()
    {
        var answer = await _clients.EmitWithAckAsync("io", "manual");

        Assert.Equal("by hand", answer[0].GetString());
    }
}
