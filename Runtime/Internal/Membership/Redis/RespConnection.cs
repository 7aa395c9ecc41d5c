using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Realtime.Runtime.Internal.Membership.Redis;

internal enum RespKind : byte
{
    SimpleString,
    Error,
    Integer,
    BulkString,
    Array,
    Null,
}

/// <summary>One RESP reply.</summary>
internal sealed record RespValue(RespKind Kind, string? Text = null, long Integer = 0, IReadOnlyList<RespValue>? Items = null);

/// <summary>Redis answered a command with an error.</summary>
internal sealed class RedisErrorException(string message) : Exception(message);

/// <summary>
/// A small Redis client: one TCP connection speaking RESP2, one command at a time. Commands are arrays of bulk
/// strings; replies are parsed into <see cref="RespValue"/>. Any I/O failure or timeout drops the connection, and
/// the next command dials again. Membership traffic is a few commands a second, so nothing here is pipelined.
/// </summary>
internal sealed class RespConnection(string host, int port, TimeSpan timeout) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly byte[] _buffer = new byte[16 * 1024];
    private Socket? _socket;
    private int _start;
    private int _end;

    public async Task<RespValue> ExecuteAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            try
            {
                if (_socket is null)
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(host, port, deadline.Token);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }

                    _socket = socket;
                    _start = _end = 0;
                }

                await _socket.SendAsync(Encode(command), SocketFlags.None, deadline.Token);
                var reply = await ReadValueAsync(deadline.Token);
                return reply.Kind == RespKind.Error ? throw new RedisErrorException(reply.Text ?? "error") : reply;
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException or FormatException)
            {
                Reset();
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                throw new MembershipUnavailableException($"Redis at {host}:{port} did not answer {command[0]}: {ex.Message}", ex);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        Reset();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    internal static byte[] Encode(IReadOnlyList<string> command)
    {
        var builder = new StringBuilder();
        builder.Append('*').Append(command.Count).Append("\r\n");
        foreach (var part in command)
        {
            builder.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private void Reset()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    private async Task<RespValue> ReadValueAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken);
        if (line.Length == 0)
        {
            throw new FormatException("An empty RESP line.");
        }

        var rest = line[1..];
        switch (line[0])
        {
            case '+':
                return new RespValue(RespKind.SimpleString, rest);
            case '-':
                return new RespValue(RespKind.Error, rest);
            case ':':
                return new RespValue(RespKind.Integer, Integer: long.Parse(rest, CultureInfo.InvariantCulture));
            case '$':
                var length = int.Parse(rest, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return new RespValue(RespKind.Null);
                }

                var bytes = await ReadExactAsync(length + 2, cancellationToken);
                return new RespValue(RespKind.BulkString, Encoding.UTF8.GetString(bytes, 0, length));
            case '*':
                var count = int.Parse(rest, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return new RespValue(RespKind.Null);
                }

                var items = new RespValue[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = await ReadValueAsync(cancellationToken);
                }

                return new RespValue(RespKind.Array, Items: items);
            default:
                throw new FormatException($"Unknown RESP type '{line[0]}'.");
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var span = _buffer.AsSpan(_start, _end - _start);
            var end = span.IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var line = Encoding.UTF8.GetString(span[..end]);
                _start += end + 2;
                return line;
            }

            await FillAsync(cancellationToken);
        }
    }

    private async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var take = Math.Min(count - copied, _end - _start);
            _buffer.AsSpan(_start, take).CopyTo(result.AsSpan(copied));
            _start += take;
            copied += take;
        }

        return result;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new FormatException("A RESP line is longer than the read buffer.");
        }

        var read = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
        if (read == 0)
        {
            throw new IOException("Redis closed the connection.");
        }

        _end += read;
    }
}
