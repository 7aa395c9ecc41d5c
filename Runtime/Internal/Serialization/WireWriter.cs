using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Realtime.Runtime.Internal.Serialization;

/// <summary>
/// Writes the primitives of the wire format into a buffer: little-endian fixed integers, LEB128 variable-length
/// unsigned integers, and strings and byte arrays prefixed with their length + 1 (0 means null).
/// </summary>
internal sealed class WireWriter(IBufferWriter<byte> output)
{
    public IBufferWriter<byte> Output { get; } = output;

    public void WriteByte(byte value)
    {
        Output.GetSpan(1)[0] = value;
        Output.Advance(1);
    }

    public void WriteBool(bool value) => WriteByte(value ? (byte)1 : (byte)0);

    public void WriteVarUInt64(ulong value)
    {
        var span = Output.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        Output.Advance(i);
    }

    public void WriteVarInt64(long value) => WriteVarUInt64((ulong)((value << 1) ^ (value >> 63))); // zig-zag

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(Output.GetSpan(8), value);
        Output.Advance(8);
    }

    public void WriteDouble(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Output.GetSpan(8), value);
        Output.Advance(8);
    }

    public void WriteString(string? value)
    {
        if (value is null)
        {
            WriteVarUInt64(0);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteVarUInt64((ulong)length + 1);
        var span = Output.GetSpan(length);
        Encoding.UTF8.GetBytes(value, span);
        Output.Advance(length);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarUInt64((ulong)value.Length + 1);
        value.CopyTo(Output.GetSpan(value.Length));
        Output.Advance(value.Length);
    }

    public void WriteNullBytes() => WriteVarUInt64(0);
}
