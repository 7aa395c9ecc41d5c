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

    public static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).Within("a WebSocket send");

    /// <summary>The next packet other than a ping, which is answered.</summary>
    public static async Task<string> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[8192];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None).Within("a WebSocket message");
            var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
            if (text != "2")
            {
                return text;
            }

            await SendAsync(socket, "3");
        }
    }
}
