using System.Buffers;
using System.Buffers.Binary;
using Realtime.Runtime.Internal.Invocation;
using Realtime.Runtime.Internal.Messaging;
using System.Reflection;
using Realtime.Runtime.Internal.Serialization;

namespace Realtime.Runtime.Internal.Transport;

/// <summary>The kinds of frame on a node-to-node connection.</summary>
internal enum FrameKind : byte
{
    Request = 0,
    OneWay = 1,
    Response = 2,
    Hello = 16,
    Ping = 17,
    Pong = 18,
}

/// <summary>One decoded frame: a runtime message, a hello, or a ping or pong with its correlation number.</summary>
internal readonly record struct DecodedFrame(FrameKind Kind, Message? Message, Hello? Hello, long Correlation);

/// <summary>What a node says about itself when it opens a connection.</summary>
internal sealed record Hello(string NodeName, NodeRole Role);


/// <summary>
/// The wire format of node-to-node connections. Every frame is a 4-byte little-endian length followed by that many
/// bytes of body:
/// <code>
/// body     := version:u8 (=1) kind:u8 rest
/// Request  := correlation:varint origin:string forwards:u8 targetType:string targetKey:string
///             interface:u32le method:varint argCount:varint arg*
/// OneWay   := the same as Request
/// Response := correlation:varint forwards:u8 status:u8 (0 result, 1 exception)
///             (result | exceptionType:string exceptionMessage:string)
/// Hello    := nodeName:string role:u8 (0 silo, 1 client)
/// Ping     := correlation:varint
/// Pong     := correlation:varint
/// </code>
/// Integers in "varint" are LEB128 (signed ones zig-zag encoded); strings and byte arrays are a varint of their
/// length + 1 (0 for null) and their UTF-8 or raw bytes. Arguments and results are written by their declared types
/// (<see cref="ValueCodec"/>); user payloads are raw bytes, never re-encoded. A reader ignores bytes after the fields
/// it knows, so fields are only ever appended.
/// </summary>
internal static class MessageCodec
{
    public const byte Version = 1;
    public const int LengthPrefixBytes = 4;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _scratch;

    /// <summary>Serializes a runtime message into one frame, length prefix included.</summary>
    public static byte[] EncodeMessage(Message message) => Encode(writer =>
    {
        switch (message.Kind)
        {
            case MessageKind.Request or MessageKind.OneWay:
                writer.WriteByte(message.Kind == MessageKind.Request ? (byte)FrameKind.Request : (byte)FrameKind.OneWay);
                writer.WriteVarInt64(message.CorrelationId);
                writer.WriteString(message.Origin);
                writer.WriteByte((byte)Math.Min(message.ForwardCount, byte.MaxValue));
                writer.WriteString(message.Target.Type);
                writer.WriteString(message.Target.Key);
                var method = message.Method!;
                Span<byte> id = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(id, method.Interface.Id);
                writer.Output.Write(id);
                writer.WriteVarUInt64((ulong)method.Id);
                writer.WriteVarUInt64((ulong)message.Arguments.Length);
                for (var i = 0; i < message.Arguments.Length; i++)
                {
                    ValueCodec.Write(writer, method.ParameterTypes[i], message.Arguments[i]);
                }

                break;
            case MessageKind.Response:
                writer.WriteByte((byte)FrameKind.Response);
                writer.WriteVarInt64(message.CorrelationId);
                writer.WriteByte((byte)Math.Min(message.ForwardCount, byte.MaxValue));
                if (message.Exception is { } exception)
                {
                    writer.WriteByte(1);
                    writer.WriteString($"{exception.GetType().FullName}, {exception.GetType().Assembly.GetName().Name}");
                    writer.WriteString(exception.Message);
                }
                else
                {
                    writer.WriteByte(0);
                    if (message.Method?.ResultType is { } resultType)
                    {
                        ValueCodec.Write(writer, resultType, message.Result);
                    }
                }

                break;
        }
    });

    public static byte[] EncodeHello(Hello hello) => Encode(writer =>
    {
        writer.WriteByte((byte)FrameKind.Hello);
        writer.WriteString(hello.NodeName);
        writer.WriteByte((byte)hello.Role);
    });

    public static byte[] EncodePing(FrameKind kind, long correlation) => Encode(writer =>
    {
        writer.WriteByte((byte)kind);
        writer.WriteVarInt64(correlation);
    });

    /// <summary>
    /// Takes one frame off the front of <paramref name="buffer"/> when it is complete; the body is copied out so the
    /// pipe's memory can be released.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameBytes, out byte[] body)
    {
        body = [];
        if (buffer.Length < LengthPrefixBytes)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[LengthPrefixBytes];
        buffer.Slice(0, LengthPrefixBytes).CopyTo(prefix);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        if (length > (uint)maxFrameBytes)
        {
            throw new WireFormatException($"A frame of {length} bytes exceeds the limit of {maxFrameBytes} bytes.");
        }

        if (buffer.Length < LengthPrefixBytes + length)
        {
            return false;
        }

        body = buffer.Slice(LengthPrefixBytes, length).ToArray();
        buffer = buffer.Slice(LengthPrefixBytes + length);
        return true;
    }

    /// <summary>
    /// Decodes one frame body into a runtime message, a hello, or a ping or pong. Any failure, whatever threw it, is
    /// reported as a <see cref="WireFormatException"/>, so a connection can tell bad input from its own faults.
    /// </summary>
    public static DecodedFrame Decode(byte[] body, Func<long, GrainMethod?> pendingMethod, IReferenceActivator references)
    {
        try
        {
            var (kind, reader) = ReadHeader(body);
            return kind switch
            {
                FrameKind.Request or FrameKind.OneWay => new DecodedFrame(kind, ReadRequest(kind, reader, references), null, 0),
                FrameKind.Response => new DecodedFrame(kind, ReadResponse(reader, pendingMethod, references), null, 0),
                FrameKind.Hello => new DecodedFrame(kind, null, ReadHello(reader), 0),
                _ => new DecodedFrame(kind, null, null, reader.ReadVarInt64()),
            };
        }
        catch (WireFormatException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new WireFormatException($"The frame is malformed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>Reads the version and kind at the start of a frame body.</summary>
    public static (FrameKind Kind, WireReader Reader) ReadHeader(byte[] body)
    {
        var reader = new WireReader(body);
        var version = reader.ReadByte();
        if (version != Version)
        {
            throw new WireFormatException($"Frame version {version} is not supported (this node speaks {Version}).");
        }

        var kind = (FrameKind)reader.ReadByte();
        if (!Enum.IsDefined(kind))
        {
            throw new WireFormatException($"Frame kind {(byte)kind} is unknown.");
        }

        return (kind, reader);
    }

    public static Message ReadRequest(FrameKind kind, WireReader reader, IReferenceActivator references)
    {
        var correlation = reader.ReadVarInt64();
        var origin = reader.ReadString();
        var forwards = reader.ReadByte();
        var target = new GrainId(reader.ReadRequiredString("target type"), reader.ReadRequiredString("target key"));
        Span<byte> idBytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++)
        {
            idBytes[i] = reader.ReadByte();
        }

        var interfaceId = BinaryPrimitives.ReadUInt32LittleEndian(idBytes);
        if (!GrainInterface.TryGet(interfaceId, out var grainInterface))
        {
            throw new WireFormatException($"Interface id {interfaceId} is not known on this node: are both running the same contracts?");
        }

        var methodId = reader.ReadVarUInt64();
        if (methodId >= (ulong)grainInterface.Methods.Length)
        {
            throw new WireFormatException($"{grainInterface.InterfaceType.Name} has no method {methodId}.");
        }

        var method = grainInterface.Methods[(int)methodId];
        var count = reader.ReadVarUInt64();
        if (count != (ulong)method.ParameterTypes.Length)
        {
            throw new WireFormatException($"{method} takes {method.ParameterTypes.Length} arguments, the frame has {count}.");
        }

        var arguments = new object?[method.ParameterTypes.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = ValueCodec.Read(reader, method.ParameterTypes[i], references);
        }

        return new Message
        {
            Kind = kind == FrameKind.Request ? MessageKind.Request : MessageKind.OneWay,
            CorrelationId = correlation,
            Origin = origin,
            ForwardCount = forwards,
            Target = target,
            Method = method,
            Arguments = arguments,
        };
    }

    /// <summary>Reads a response; <paramref name="methodOf"/> names the method that was called, from the pending call.</summary>
    public static Message ReadResponse(WireReader reader, Func<long, GrainMethod?> methodOf, IReferenceActivator references)
    {
        var correlation = reader.ReadVarInt64();
        var forwards = reader.ReadByte();
        var status = reader.ReadByte();
        object? result = null;
        Exception? exception = null;
        var method = methodOf(correlation);
        switch (status)
        {
            case 0:
                if (method?.ResultType is { } resultType)
                {
                    result = ValueCodec.Read(reader, resultType, references);
                }

                break;
            case 1:
                exception = RebuildException(reader.ReadRequiredString("exception type"), reader.ReadString() ?? "");
                break;
            default:
                throw new WireFormatException($"Response status {status} is unknown.");
        }

        return new Message { Kind = MessageKind.Response, CorrelationId = correlation, ForwardCount = forwards, Method = method, Result = result, Exception = exception };
    }

    public static Hello ReadHello(WireReader reader)
    {
        var name = reader.ReadRequiredString("node name");
        var role = (NodeRole)reader.ReadByte();
        return Enum.IsDefined(role) ? new Hello(name, role) : throw new WireFormatException($"Node role {(byte)role} is unknown.");
    }

    /// <summary>
    /// Recreates the exception a remote grain threw: the same type when it is an exception type this node knows with
    /// a constructor taking a message, otherwise a <see cref="GrainCallException"/> that names the remote type.
    /// </summary>
    internal static Exception RebuildException(string typeName, string message)
    {
        var type = Type.GetType(typeName, throwOnError: false);
        if (type is not null && typeof(Exception).IsAssignableFrom(type) && type.GetConstructor([typeof(string)]) is { } constructor)
        {
            try
            {
                return (Exception)constructor.Invoke([message]);
            }
            catch (TargetInvocationException)
            {
                // Fall through to the generic form.
            }
        }

        return new GrainCallException($"{typeName.Split(',')[0]}: {message}");
    }

    private static byte[] Encode(Action<WireWriter> write)
    {
        var scratch = _scratch ??= new ArrayBufferWriter<byte>(256);
        scratch.ResetWrittenCount();
        scratch.Advance(LengthPrefixBytes);
        var writer = new WireWriter(scratch);
        writer.WriteByte(Version);
        write(writer);
        var frame = scratch.WrittenSpan.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(frame.Length - LengthPrefixBytes));
        if (scratch.Capacity > 1024 * 1024)
        {
            _scratch = null; // do not keep a huge buffer alive on this thread
        }

        return frame;
    }
}
