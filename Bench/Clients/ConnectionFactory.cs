using System.Net;
using System.Net.Sockets;

namespace Realtime.Bench.Clients;

/// <summary>
/// Opens load-client connections, spread round robin over the system's servers and over several loopback source
/// addresses (127.0.0.2 and up), so that the ephemeral ports of one address pair never cap a run.
/// </summary>
public sealed class ConnectionFactory : IDisposable
{
    private readonly HttpMessageInvoker[] _invokers;

    public ConnectionFactory(int sourceAddresses)
    {
        _invokers = Enumerable.Range(0, sourceAddresses)
            .Select(i => new HttpMessageInvoker(Handler(new IPAddress([127, 0, 0, (byte)(2 + i)]))))
            .ToArray();
    }

    /// <summary>Opens a connection to <paramref name="server"/> and completes its handshake.</summary>
    /// <remarks>With <paramref name="trackPositions"/>, a SignalR connection keeps each room's last position, to resume.</remarks>
    public async Task<LoadConnection> ConnectAsync(Protocol protocol, int index, Uri server, CancellationToken cancellationToken, bool trackPositions = false)
    {
        LoadConnection connection = protocol == Protocol.SignalR ? new SignalRLoadConnection(index) { TrackPositions = trackPositions } : new SocketIOLoadConnection(index);
        try
        {
            await connection.ConnectAsync(server, _invokers[index % _invokers.Length], cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var invoker in _invokers)
        {
            invoker.Dispose();
        }
    }

    private static SocketsHttpHandler Handler(IPAddress source) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

/// <summary>The wire protocol a system's clients speak.</summary>
public enum Protocol
{
    SignalR,
    SocketIO,
}
