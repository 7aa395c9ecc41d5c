using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Realtime.Runtime.Internal.Transport;

namespace Realtime.Runtime.Internal.Membership.Redis;

/// <summary>
/// The membership table in Redis. Keys, for cluster id C:
/// <list type="bullet">
/// <item><c>realtime:C:members</c>, a hash: node name → the row as JSON (with its <c>etag</c>);</item>
/// <item><c>realtime:C:alive</c>, a hash: node name → I-am-alive time in Unix milliseconds;</item>
/// <item><c>realtime:C:version</c>, a counter bumped by every insert and update.</item>
/// </list>
/// Inserts and compare-and-swap updates are Lua scripts, so the check and the write are one atomic step; the
/// whole table is read by one script too, so a snapshot is consistent.
/// </summary>
internal sealed class RedisMembershipTable(RespConnection redis, string clusterId) : IMembershipTable, IAsyncDisposable
{
    private const string InsertScript = """
        if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
          redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
          return redis.call('INCR', KEYS[3])
        end
        return 0
        """;

    private const string UpdateScript = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current then return 0 end
        if cjson.decode(current)['etag'] ~= tonumber(ARGV[2]) then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        return redis.call('INCR', KEYS[3])
        """;

    private const string DeleteDeadScript = """
        local deleted = 0
        local rows = redis.call('HGETALL', KEYS[1])
        for i = 1, #rows, 2 do
          local row = cjson.decode(rows[i + 1])
          local alive = tonumber(redis.call('HGET', KEYS[2], rows[i]) or '0')
          if row['status'] == 3 and math.max(alive, row['start']) < tonumber(ARGV[1]) then
            redis.call('HDEL', KEYS[1], rows[i])
            redis.call('HDEL', KEYS[2], rows[i])
            deleted = deleted + 1
          end
        end
        if deleted > 0 then redis.call('INCR', KEYS[3]) end
        return deleted
        """;

    private const string ReadScript = """
        return { redis.call('GET', KEYS[3]) or '0', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]) }
        """;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    private readonly string[] _keys = [$"realtime:{clusterId}:members", $"realtime:{clusterId}:alive", $"realtime:{clusterId}:version"];

    public async Task<MembershipSnapshot> ReadAllAsync(CancellationToken cancellationToken)
    {
        var reply = await redis.ExecuteAsync(["EVAL", ReadScript, "3", .. _keys], cancellationToken);
        var parts = reply.Items ?? throw new MembershipUnavailableException("Redis returned no table.");
        var version = long.Parse(parts[0].Text ?? "0", CultureInfo.InvariantCulture);
        var alive = Pairs(parts[2]).ToDictionary(p => p.Key, p => DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(p.Value, CultureInfo.InvariantCulture)));
        var entries = new List<MembershipEntry>();
        foreach (var (name, json) in Pairs(parts[1]))
        {
            var row = JsonSerializer.Deserialize<Row>(json, Json) ?? throw new MembershipUnavailableException($"Row {name} is empty.");
            entries.Add(row.ToEntry() with { IAmAlive = alive.GetValueOrDefault(name) });
        }

        return new MembershipSnapshot(version, entries);
    }

    public async Task<bool> TryInsertAsync(MembershipEntry entry, CancellationToken cancellationToken)
    {
        var row = JsonSerializer.Serialize(Row.From(entry with { ETag = 1 }), Json);
        var reply = await redis.ExecuteAsync(["EVAL", InsertScript, "3", .. _keys, entry.Name, row, ToMilliseconds(entry.IAmAlive)], cancellationToken);
        return reply.Integer != 0;
    }

    public async Task<bool> TryUpdateAsync(MembershipEntry entry, long expectedETag, CancellationToken cancellationToken)
    {
        var row = JsonSerializer.Serialize(Row.From(entry with { ETag = expectedETag + 1 }), Json);
        var reply = await redis.ExecuteAsync(["EVAL", UpdateScript, "3", .. _keys, entry.Name, expectedETag.ToString(CultureInfo.InvariantCulture), row], cancellationToken);
        return reply.Integer != 0;
    }

    public Task UpdateIAmAliveAsync(string name, DateTimeOffset time, CancellationToken cancellationToken) =>
        redis.ExecuteAsync(["HSET", _keys[1], name, ToMilliseconds(time)], cancellationToken);

    public async Task<int> DeleteDeadAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        var reply = await redis.ExecuteAsync(["EVAL", DeleteDeadScript, "3", .. _keys, ToMilliseconds(before)], cancellationToken);
        return (int)reply.Integer;
    }

    public ValueTask DisposeAsync() => redis.DisposeAsync();

    private static string ToMilliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

    private static IEnumerable<KeyValuePair<string, string>> Pairs(RespValue hash)
    {
        var items = hash.Items ?? [];
        for (var i = 0; i + 1 < items.Count; i += 2)
        {
            yield return KeyValuePair.Create(items[i].Text ?? "", items[i + 1].Text ?? "");
        }
    }

    /// <summary>The JSON form of a row; field names are part of the stored format.</summary>
    private sealed record Row(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("role")] int Role,
        [property: JsonPropertyName("status")] int Status,
        [property: JsonPropertyName("start")] long Start,
        [property: JsonPropertyName("suspicions")] SuspicionRow[] Suspicions,
        [property: JsonPropertyName("etag")] long ETag)
    {
        public static Row From(MembershipEntry entry) => new(
            entry.Name,
            (int)entry.Role,
            (int)entry.Status,
            entry.StartTime.ToUnixTimeMilliseconds(),
            entry.Suspicions.Select(s => new SuspicionRow(s.By, s.At.ToUnixTimeMilliseconds())).ToArray(),
            entry.ETag);

        public MembershipEntry ToEntry() => new(
            Name,
            (NodeRole)Role,
            (MembershipStatus)Status,
            DateTimeOffset.FromUnixTimeMilliseconds(Start),
            Suspicions.Select(s => new Suspicion(s.By, DateTimeOffset.FromUnixTimeMilliseconds(s.At))).ToArray())
        {
            ETag = ETag,
        };
    }

    private sealed record SuspicionRow([property: JsonPropertyName("by")] string By, [property: JsonPropertyName("at")] long At);
}
