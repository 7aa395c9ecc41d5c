using System.Net.WebSockets;
using System.Text;

namespace Realtime.Tests.Infrastructure;

/// <summary>Engine.IO v4 over a WebSocket, spoken by hand: for tests that must control each packet and its timing.</summary>
public static class EngineIOWebSocket
{
    /// <summary>Opens a WebSocket-only session at the gateway's <c>/socket.io/</c> and reads its open packet.</summary>
    public static async Task<ClientWebSocket> OpenAsync(Uri gateway)
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(gateway) { Scheme = "ws", Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None).Within("the WebSocket to connect");
        var open = await ReceiveAsync(socket);
        if (!open.StartsWith("0{", StringComparison.Ordinal))
        {
            socket.Dispose();
            throw new InvalidOperationException("Expected the Engine.IO open packet, got: " + open);
        }

        return socket;
    }

    public static Task SendAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Within($"sending {text}");

    /// <summary>The next text message that is not a ping (pings are answered, as a client does).</summary>
    public static async Task<string> ReceiveAsync(WebSocket socket)
    {
        while (true)
        {
            var (type, data) = await ReceiveMessageAsync(socket);
            Assert.Equal(WebSocketMessageType.Text, type);
            var text = Encoding.UTF8.GetString(data);
            if (text != "2")
            {
                return text;
            }

            await SendAsync(socket, "3");
        }
    }

    /// <summary>The next whole message, of any type, however many frames it came in.</summary>
    public static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, CancellationToken.None).Within("a message");
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return (result.MessageType, message.ToArray());
    }
}
