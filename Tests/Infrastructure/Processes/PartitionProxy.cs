using System.Net;
using System.Net.Sockets;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// A TCP proxy on loopback that can cut the link it carries: while cut, it reads nothing from either side, so the
/// bytes wait in the network's buffers and the senders' writes stall, as behind a partition that drops packets;
/// healed, what waited goes through, in order, as TCP's retransmissions would deliver it.
/// </summary>
public sealed class PartitionProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private volatile TaskCompletionSource _open = Healed();

    public PartitionProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Cuts the link: nothing passes either way until <see cref="Heal"/>.</summary>
    public void Cut() => _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Heal() => _open.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Heal();
        _stop.Cancel();
        _listener.Stop();
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }

        await Task.CompletedTask;
    }

    private static TaskCompletionSource Healed()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                var outbound = new TcpClient();
                await outbound.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                lock (_connections)
                {
                    _connections.Add(inbound);
                    _connections.Add(outbound);
                }

                _ = PumpAsync(inbound.GetStream(), outbound.GetStream(), inbound, outbound);
                _ = PumpAsync(outbound.GetStream(), inbound.GetStream(), outbound, inbound);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopped.
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, TcpClient source, TcpClient destination)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                await _open.Task.WaitAsync(_stop.Token);
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                await _open.Task.WaitAsync(_stop.Token);
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // One side went away.
        }
        finally
        {
            source.Dispose();
            destination.Dispose();
        }
    }
}
