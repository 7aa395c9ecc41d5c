using System.Net.WebSockets;
using System.Text;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Fuzz;

/// <summary>A raw socket.io WebSocket of the fuzz test (<see cref="FuzzTests"/>) that answers the server's pings and keeps what it receives, for its probes.</summary>
internal sealed class ProbedSocket : IDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly System.Threading.Channels.Channel<string?> _received = System.Threading.Channels.Channel.CreateUnbounded<string?>();
    private readonly SemaphoreSlim _sending = new(1, 1);

    public bool IsOpen => _socket.State == WebSocketState.Open && !_received.Reader.Completion.IsCompleted;

    public static async Task<ProbedSocket> OpenAsync(Uri gateway)
    {
        var probed = new ProbedSocket();
        await probed._socket.ConnectAsync(new Uri($"ws://{gateway.Authority}/socket.io/?EIO=4&transport=websocket"), CancellationToken.None).Within("a socket.io WebSocket");
        _ = probed.ReadAsync();
        await probed.SendAsync("40"u8.ToArray(), WebSocketMessageType.Text);
        return probed;
    }

    public async Task SendAsync(byte[] data, WebSocketMessageType type)
    {
        await _sending.WaitAsync();
        try
        {
            await _socket.SendAsync(data, type, true, CancellationToken.None).Within("a frame to be sent");
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Whether a message starting with one of <paramref name="answers"/> came, or the session closed, within five seconds.</summary>
    public async Task<bool> AnsweredOrClosedAsync(params string[] answers)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (await _received.Reader.WaitToReadAsync(timeout.Token))
            {
                while (_received.Reader.TryRead(out var message))
                {
                    if (message is null || answers.Any(a => message.StartsWith(a, StringComparison.Ordinal)))
                    {
                        return true;
                    }
                }
            }

            return true; // closed
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var text = result.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(buffer, 0, result.Count) : "";
                if (text == "2")
                {
                    await SendAsync("3"u8.ToArray(), WebSocketMessageType.Text);
                }

                _received.Writer.TryWrite(text);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or TimeoutException)
        {
        }

        _received.Writer.TryWrite(null);
        _received.Writer.TryComplete();
    }

    public void Dispose()
    {
        _socket.Dispose();
        _sending.Dispose();
    }
}
