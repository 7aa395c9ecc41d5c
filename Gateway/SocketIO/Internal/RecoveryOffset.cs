using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Realtime.Contracts;
using Realtime.Gateway.Core;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>
/// The offset of socket.io connection state recovery: the string a recoverable socket's every event carries as its
/// last argument, and which the client presents when it reconnects. socket.io's own adapters number every packet of
/// the server in one sequence, so one packet id says where a client was; here each room, namespace and session
/// numbers its own messages, so the offset holds where the socket was in each of them when the event was written: the
/// messages to the socket alone (its session's epoch and sequence number), then, for each room and its namespace, a
/// tag of the group's key, its epoch and sequence number.
/// </summary>
/// <remarks>
/// Wire format (base64url, no padding): version byte 1; the session's epoch (6 bytes) and sequence number (unsigned
/// LEB128); the number of groups (LEB128); for each group, the first 4 bytes of the SHA-256 of its grain key, its
/// epoch (6 bytes) and sequence number (LEB128). Epochs are 12 hexadecimal characters, as grains write them.
/// A client treats the offset as opaque.
/// </remarks>
internal static class RecoveryOffset
{
    private const byte Version = 1;
    private const int EpochBytes = 6;

    /// <summary>The tag of a group's key in an offset.</summary>
    public static uint Tag(string groupKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(groupKey), hash);
        return BinaryPrimitives.ReadUInt32BigEndian(hash);
    }

    public static string Encode(GroupPosition own, IEnumerable<(uint Tag, GroupPosition Position)> groups)
    {
        var buffer = new List<byte>(64) { Version };
        WriteEpoch(buffer, own.Epoch);
        WriteNumber(buffer, (ulong)own.Sequence);
        var entries = groups.ToList();
        WriteNumber(buffer, (ulong)entries.Count);
        Span<byte> tag = stackalloc byte[4];
        foreach (var (groupTag, position) in entries)
        {
            BinaryPrimitives.WriteUInt32BigEndian(tag, groupTag);
            buffer.AddRange(tag);
            WriteEpoch(buffer, position.Epoch);
            WriteNumber(buffer, (ulong)position.Sequence);
        }

        return Base64Url.EncodeToString([.. buffer]);
    }

    /// <summary>The positions an offset holds; null when it is not one this gateway wrote (malformed, or another server's).</summary>
    public static Decoded? Decode(string offset)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(offset);
        }
        catch (FormatException)
        {
            return null;
        }

        var reader = new Reader(bytes);
        if (!reader.TryByte(out var version) || version != Version
            || !reader.TryEpoch(out var ownEpoch) || !reader.TryNumber(out var ownSequence) || !reader.TryNumber(out var count) || count > 10_000)
        {
            return null;
        }

        var groups = new Dictionary<uint, GroupPosition>((int)count);
        for (var i = 0UL; i < count; i++)
        {
            if (!reader.TryTag(out var tag) || !reader.TryEpoch(out var epoch) || !reader.TryNumber(out var sequence) || !groups.TryAdd(tag, new GroupPosition(epoch, (long)sequence)))
            {
                return null;
            }
        }

        return reader.AtEnd ? new Decoded(new GroupPosition(ownEpoch, (long)ownSequence), groups) : null;
    }

    /// <summary>Whether a grain's epoch can go in an offset (12 hexadecimal characters).</summary>
    public static bool IsEpoch(string epoch) => epoch.Length == EpochBytes * 2 && epoch.All(char.IsAsciiHexDigit);

    private static void WriteEpoch(List<byte> buffer, string epoch)
    {
        Span<byte> bytes = stackalloc byte[EpochBytes];
        if (!IsEpoch(epoch) || Convert.FromHexString(epoch, bytes, out _, out _) != System.Buffers.OperationStatus.Done)
        {
            throw new ArgumentException($"'{epoch}' is not an epoch.", nameof(epoch));
        }

        buffer.AddRange(bytes);
    }

    private static void WriteNumber(List<byte> buffer, ulong value)
    {
        while (value >= 0x80)
        {
            buffer.Add((byte)(value | 0x80));
            value >>= 7;
        }

        buffer.Add((byte)value);
    }

    /// <summary>What an offset holds: the socket's place in its own messages, and in each group by tag.</summary>
    public sealed record Decoded(GroupPosition Own, IReadOnlyDictionary<uint, GroupPosition> Groups)
    {
        public GroupPosition? Of(string groupKey) => Groups.TryGetValue(Tag(groupKey), out var position) ? position : null;
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public readonly bool AtEnd => _rest.IsEmpty;

        public bool TryByte(out byte value)
        {
            value = 0;
            if (_rest.IsEmpty)
            {
                return false;
            }

            value = _rest[0];
            _rest = _rest[1..];
            return true;
        }

        public bool TryTag(out uint tag)
        {
            tag = 0;
            if (_rest.Length < 4)
            {
                return false;
            }

            tag = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            _rest = _rest[4..];
            return true;
        }

        public bool TryEpoch(out string epoch)
        {
            epoch = "";
            if (_rest.Length < EpochBytes)
            {
                return false;
            }

            epoch = Convert.ToHexString(_rest[..EpochBytes]).ToLowerInvariant();
            _rest = _rest[EpochBytes..];
            return true;
        }

        public bool TryNumber(out ulong value)
        {
            value = 0;
            for (var shift = 0; shift < 63; shift += 7)
            {
                if (!TryByte(out var part))
                {
                    return false;
                }

                value |= (ulong)(part & 0x7F) << shift;
                if ((part & 0x80) == 0)
                {
                    return value <= long.MaxValue;
                }
            }

            return false;
        }
    }
}

/// <summary>
/// Where a recoverable socket stands in each stream it receives: its session's messages, its namespace and its rooms.
/// Every event written to the socket moves its stream's position and carries the whole set as its offset, so the
/// offset of the last event a client received says what it has of every stream. Guarded by the connection's write
/// lock: the position moves and the event is queued in one step, so that no offset claims a message queued after it.
/// </summary>
internal sealed class RecoveryPositions
{
    private readonly Dictionary<string, (uint Tag, GroupPosition Position)> _groups = new(StringComparer.Ordinal);
    private GroupPosition _own;
    private string? _offset;

    public RecoveryPositions(GroupPosition own) => _own = own;

    /// <summary>
    /// While true (a recovery writes what the client missed), joins do not move positions: the client has a room's
    /// messages up to where the replay brings it, not up to where the room stood at the new join.
    /// </summary>
    public bool Restoring { get; set; }

    public GroupPosition Own => _own;

    /// <summary>Where the socket stands in a group; null when it is in none of that key.</summary>
    public GroupPosition? Of(string groupKey) => _groups.TryGetValue(groupKey, out var entry) ? entry.Position : null;

    /// <summary>The socket joined a group where it stood at <paramref name="position"/>: it has every message up to it.</summary>
    public void Joined(string groupKey, GroupPosition position)
    {
        if (Restoring || !RecoveryOffset.IsEpoch(position.Epoch))
        {
            return;
        }

        if (_groups.TryGetValue(groupKey, out var entry) && entry.Position.Epoch == position.Epoch && entry.Position.Sequence >= position.Sequence)
        {
            return;
        }

        Set(groupKey, position);
    }

    /// <summary>Sets a group's position outright (a recovery, from what the client presented).</summary>
    public void Set(string groupKey, GroupPosition position)
    {
        _groups[groupKey] = (RecoveryOffset.Tag(groupKey), position);
        _offset = null;
    }

    public void SetOwn(GroupPosition own)
    {
        _own = own;
        _offset = null;
    }

    public void Left(string groupKey)
    {
        if (_groups.Remove(groupKey))
        {
            _offset = null;
        }
    }

    /// <summary>A message of a stream is being written: the stream's position moves to it (never back).</summary>
    public void Advance(StreamPosition position)
    {
        if (!RecoveryOffset.IsEpoch(position.Epoch))
        {
            return;
        }

        if (position.ToConnection)
        {
            if (_own.Epoch != position.Epoch || _own.Sequence < position.Sequence)
            {
                SetOwn(new GroupPosition(position.Epoch, position.Sequence));
            }

            return;
        }

        if (_groups.TryGetValue(position.Key, out var entry))
        {
            if (entry.Position.Epoch == position.Epoch && entry.Position.Sequence >= position.Sequence)
            {
                return;
            }

            _groups[position.Key] = (entry.Tag, new GroupPosition(position.Epoch, position.Sequence));
            _offset = null;
        }
        else
        {
            Set(position.Key, new GroupPosition(position.Epoch, position.Sequence));
        }
    }

    /// <summary>The offset for the event being written now.</summary>
    public string Offset() => _offset ??= RecoveryOffset.Encode(_own, _groups.Values);
}
