using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Authorization;

/// <summary>
/// Per-connection flood control (<c>Gateway:RateLimit</c>): token buckets of messages and of bytes per connection, from
/// System.Threading.RateLimiting (one replenishing timer for every connection; idle buckets are dropped). A message
/// over a bucket is refused with a clear error; a connection refused <see cref="RateLimitOptions.DisconnectAfter"/>
/// times within ten seconds is disconnected.
/// </summary>
internal sealed class ClientRateLimits : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly PartitionedRateLimiter<string>? _messages;
    private readonly PartitionedRateLimiter<string>? _bytes;
    private readonly ConcurrentDictionary<string, Refusals> _refusals = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public ClientRateLimits(IOptions<GatewayOptions> options, TimeProvider time)
    {
        _options = options.Value.RateLimit;
        _time = time;
        if (_options.MessagesPerSecond > 0)
        {
            _messages = Buckets(_options.MessagesPerSecond, _options.MessageBurst);
        }

        if (_options.BytesPerSecond > 0)
        {
            _bytes = Buckets(_options.BytesPerSecond, _options.ByteBurst);
        }
    }

    public bool Enabled => _messages is not null || _bytes is not null;

    /// <summary>Takes a message of <paramref name="bytes"/> from the connection's buckets; the reason when it is refused.</summary>
    public string? Take(string connectionId, long bytes)
    {
        string? refusal = null;
        if (_messages is not null && !Acquire(_messages, connectionId, 1))
        {
            refusal = $"Rate limit: at most {_options.MessagesPerSecond} messages per second (Gateway:RateLimit:MessagesPerSecond); slow down.";
        }
        else if (_bytes is not null && (bytes > Math.Max(_options.ByteBurst, _options.BytesPerSecond) || !Acquire(_bytes, connectionId, (int)bytes)))
        {
            refusal = $"Rate limit: at most {_options.BytesPerSecond} bytes per second (Gateway:RateLimit:BytesPerSecond); slow down.";
        }

        return refusal;
    }

    /// <summary>Counts a refusal; true when the connection has been refused so often that it is to be disconnected.</summary>
    public bool Abusive(string connectionId)
    {
        if (_options.DisconnectAfter == 0)
        {
            return false;
        }

        var now = _time.GetUtcNow();
        var refusals = _refusals.AddOrUpdate(
            connectionId,
            static (_, now) => new Refusals(now, 1),
            static (_, previous, now) => now - previous.Since > RateLimitOptions.AbuseWindowLength ? new Refusals(now, 1) : previous with { Count = previous.Count + 1 },
            now);
        return refusals.Count >= _options.DisconnectAfter;
    }

    /// <summary>Forgets a connection that closed.</summary>
    public void Forget(string connectionId) => _refusals.TryRemove(connectionId, out _);

    /// <summary>The size of a client's message as the limit counts it: its arguments' bytes.</summary>
    public static long SizeOf(IReadOnlyList<object?> arguments)
    {
        long size = 0;
        foreach (var argument in arguments)
        {
            size += argument switch
            {
                JsonElement element => JsonMarshal.GetRawUtf8Value(element).Length,
                string text => Encoding.UTF8.GetByteCount(text),
                null => 4,
                _ => 16,
            };
        }

        return size;
    }

    public void Dispose()
    {
        _messages?.Dispose();
        _bytes?.Dispose();
    }

    private static bool Acquire(PartitionedRateLimiter<string> limiter, string connectionId, int permits)
    {
        using var lease = limiter.AttemptAcquire(connectionId, Math.Max(permits, 1));
        return lease.IsAcquired;
    }

    private static PartitionedRateLimiter<string> Buckets(int perSecond, int burst) =>
        PartitionedRateLimiter.Create<string, string>(connectionId => RateLimitPartition.GetTokenBucketLimiter(connectionId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(burst, perSecond),
            TokensPerPeriod = Math.Max(1, perSecond / 10),
            ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
            AutoReplenishment = true,
            QueueLimit = 0,
        }));

    private sealed record Refusals(DateTimeOffset Since, int Count);
}
