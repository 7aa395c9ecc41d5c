using System.Buffers.Binary;
using System.Text;

namespace Realtime.Runtime.Internal.Serialization;

/// <summary>Thrown when bytes do not form a valid message: truncated, out of range, or of an unknown kind.</summary>
public sealed class WireFormatException(string message) : Exception(message);

/// <summary>
/// Reads what <see cref="WireWriter"/> wrote, from one frame held in memory. Byte arrays are returned as slices of
/// the frame, never copied, so a payload crosses a node without being copied or re-serialized.
/// </summary>
internal sealed class WireReader(ReadOnlyMemory<byte> frame)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private int _position;

    public int Remaining => frame.Length - _position;

    public byte ReadByte()
    {
        Need(1);
        return frame.Span[_position++];
    }

    public bool ReadBool() => ReadByte() switch
    {
        0 => false,
        1 => true,
        var b => throw new WireFormatException($"A boolean must be 0 or 1, not {b}."),
    };

    public ulong ReadVarUInt64()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = ReadByte();
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new WireFormatException("A variable-length integer is longer than 10 bytes.");
    }

    public long ReadVarInt64()
    {
        var raw = ReadVarUInt64();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>
    /// Reads a length written as count + 1 (0 for null). Every item takes at least one byte, so a count larger than
    /// what is left is refused before anything is allocated for it.
    /// </summary>
    public int ReadLength(string what)
    {
        var value = ReadVarUInt64();
        if (value > 0 && value - 1 > (ulong)Remaining)
        {
            throw new WireFormatException($"The {what} claims {value - 1} items or bytes but only {Remaining} bytes are left.");
        }

        return (int)value;
    }

    public long ReadInt64()
    {
        Need(8);
        var value = BinaryPrimitives.ReadInt64LittleEndian(frame.Span[_position..]);
        _position += 8;
        return value;
    }

    public double ReadDouble()
    {
        Need(8);
        var value = BinaryPrimitives.ReadDoubleLittleEndian(frame.Span[_position..]);
        _position += 8;
        return value;
    }

    public string? ReadString()
    {
        var length = ReadLength("string");
        if (length == 0)
        {
            return null;
        }

        length--;
        Need(length);
        try
        {
            var value = StrictUtf8.GetString(frame.Span.Slice(_position, length));
            _position += length;
            return value;
        }
        catch (ArgumentException)
        {
            throw new WireFormatException("A string is not valid UTF-8.");
        }
    }

    public string ReadRequiredString(string what) => ReadString() ?? throw new WireFormatException($"The {what} is missing.");

    /// <summary>A slice of the frame; null when the writer wrote null.</summary>
    public ReadOnlyMemory<byte>? ReadBytes()
    {
        var length = ReadLength("byte array");
        if (length == 0)
        {
            return null;
        }

        length--;
        Need(length);
        var slice = frame.Slice(_position, length);
        _position += length;
        return slice;
    }

    private void Need(int count)
    {
        if (count < 0 || count > Remaining)
        {
            throw new WireFormatException($"The message is truncated: {count} more bytes were expected, {Remaining} are left.");
        }
    }
}
