using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using Realtime.Runtime.Internal.Invocation;

namespace Realtime.Runtime.Internal.Serialization;

/// <summary>Turns a grain id read off the wire back into a callable reference.</summary>
internal interface IReferenceActivator
{
    object CreateReference(GrainInterface grainInterface, GrainId id);
}

/// <summary>
/// Serializes values by their declared type, so the bytes carry no type names: both ends know the types from the
/// method signature. Supported: primitives, strings, enums, nullables, byte arrays and <see cref="ReadOnlyMemory{T}"/>
/// of bytes (sent raw, read as slices of the frame), <see cref="JsonElement"/> (as its UTF-8 text), arrays and lists,
/// grain and observer references (as their <see cref="GrainId"/>), and records or classes whose public constructor
/// parameters match their properties. Reference types carry a presence byte; strings and bytes encode null in
/// their length.
/// </summary>
internal static class ValueCodec
{
    private static readonly ConcurrentDictionary<Type, Codec> Codecs = new();

    public static void Write(WireWriter writer, Type type, object? value) => For(type).Write(writer, value);

    public static object? Read(WireReader reader, Type type, IReferenceActivator references) => For(type).Read(reader, references);

    public static Codec For(Type type) => Codecs.GetOrAdd(type, Create);

    private static Codec Create(Type type)
    {
        if (type == typeof(string))
        {
            return new Codec((w, v) => w.WriteString((string?)v), (r, _) => r.ReadString());
        }

        if (type == typeof(bool))
        {
            return new Codec((w, v) => w.WriteBool((bool)v!), (r, _) => r.ReadBool());
        }

        if (type == typeof(byte))
        {
            return new Codec((w, v) => w.WriteByte((byte)v!), (r, _) => r.ReadByte());
        }

        if (type == typeof(int))
        {
            return new Codec((w, v) => w.WriteVarInt64((int)v!), (r, _) => checked((int)r.ReadVarInt64()));
        }

        if (type == typeof(long))
        {
            return new Codec((w, v) => w.WriteVarInt64((long)v!), (r, _) => r.ReadVarInt64());
        }

        if (type == typeof(double))
        {
            return new Codec((w, v) => w.WriteDouble((double)v!), (r, _) => r.ReadDouble());
        }

        if (type == typeof(TimeSpan))
        {
            return new Codec((w, v) => w.WriteVarInt64(((TimeSpan)v!).Ticks), (r, _) => TimeSpan.FromTicks(r.ReadVarInt64()));
        }

        if (type == typeof(DateTimeOffset))
        {
            return new Codec((w, v) => w.WriteInt64(((DateTimeOffset)v!).UtcTicks), (r, _) => new DateTimeOffset(r.ReadInt64(), TimeSpan.Zero));
        }

        if (type == typeof(byte[]))
        {
            return new Codec(
                (w, v) => { if (v is null) { w.WriteNullBytes(); } else { w.WriteBytes((byte[])v); } },
                (r, _) => r.ReadBytes()?.ToArray());
        }

        if (type == typeof(ReadOnlyMemory<byte>))
        {
            return new Codec((w, v) => w.WriteBytes(((ReadOnlyMemory<byte>)v!).Span), (r, _) => r.ReadBytes() ?? ReadOnlyMemory<byte>.Empty);
        }

        if (type == typeof(JsonElement))
        {
            return new Codec(
                (w, v) => w.WriteBytes(JsonSerializer.SerializeToUtf8Bytes((JsonElement)v!)),
                (r, _) => ParseJson(r.ReadBytes() ?? throw new WireFormatException("A JSON value is missing.")));
        }

        if (type == typeof(GrainId))
        {
            return new Codec(
                (w, v) => { var id = (GrainId)v!; w.WriteString(id.Type); w.WriteString(id.Key); },
                (r, _) => new GrainId(r.ReadRequiredString("grain type"), r.ReadRequiredString("grain key")));
        }

        if (type.IsEnum)
        {
            var underlying = Enum.GetUnderlyingType(type);
            return new Codec(
                (w, v) => w.WriteVarInt64(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)),
                (r, _) => Enum.ToObject(type, Convert.ChangeType(r.ReadVarInt64(), underlying, System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (Nullable.GetUnderlyingType(type) is { } inner)
        {
            return Optional(For(inner));
        }

        if (type.IsInterface && (typeof(IGrain).IsAssignableFrom(type) || typeof(IGrainObserver).IsAssignableFrom(type)))
        {
            var grainInterface = GrainInterface.Get(type);
            var ids = For(typeof(GrainId));
            return Optional(new Codec(
                (w, v) => ids.Write(w, v!.GetGrainId()),
                (r, refs) => refs.CreateReference(grainInterface, (GrainId)ids.Read(r, refs)!)));
        }

        if (ElementType(type) is { } element)
        {
            return ListCodec(type, element);
        }

        if (type.IsClass && type != typeof(object) && !typeof(Delegate).IsAssignableFrom(type) && !typeof(Exception).IsAssignableFrom(type))
        {
            return Optional(RecordCodec(type));
        }

        throw new NotSupportedException($"{type} cannot be sent between nodes: use strings, numbers, byte arrays, JSON elements, lists, records or grain references.");
    }

    private static Codec Optional(Codec value) => new(
        (w, v) =>
        {
            w.WriteBool(v is not null);
            if (v is not null)
            {
                value.Write(w, v);
            }
        },
        (r, refs) => r.ReadBool() ? value.Read(r, refs) : null);

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>) ||
                definition == typeof(IReadOnlyCollection<>) || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>))
            {
                return type.GetGenericArguments()[0];
            }
        }

        return null;
    }

    private static Codec ListCodec(Type type, Type element)
    {
        var elements = new Lazy<Codec>(() => For(element));
        var asList = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>);
        return new Codec(
            (w, v) =>
            {
                if (v is null)
                {
                    w.WriteVarUInt64(0);
                    return;
                }

                var items = (System.Collections.IEnumerable)v;
                var list = items as System.Collections.ICollection ?? items.Cast<object?>().ToArray();
                w.WriteVarUInt64((ulong)list.Count + 1);
                foreach (var item in list)
                {
                    elements.Value.Write(w, item);
                }
            },
            (r, refs) =>
            {
                var count = r.ReadLength("list");
                if (count == 0)
                {
                    return null;
                }

                var array = Array.CreateInstance(element, count - 1);
                for (var i = 0; i < array.Length; i++)
                {
                    array.SetValue(elements.Value.Read(r, refs), i);
                }

                if (!asList)
                {
                    return array;
                }

                var result = (System.Collections.IList)Activator.CreateInstance(type, array.Length)!;
                foreach (var item in array)
                {
                    result.Add(item);
                }

                return result;
            });
    }

    private static Codec RecordCodec(Type type)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new NotSupportedException($"{type} has no public constructor, so it cannot be sent between nodes.");
        var parameters = constructor.GetParameters();
        var getters = new Func<object, object?>[parameters.Length];
        var codecs = new Lazy<Codec>[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var parameter = parameters[i];
            var property = type.GetProperty(parameter.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                ?? throw new NotSupportedException($"{type}: constructor parameter '{parameter.Name}' has no matching public property, so it cannot be sent between nodes.");
            var instance = Expression.Parameter(typeof(object));
            getters[i] = Expression.Lambda<Func<object, object?>>(
                Expression.Convert(Expression.Property(Expression.Convert(instance, type), property), typeof(object)), instance).Compile();
            var parameterType = parameter.ParameterType;
            codecs[i] = new Lazy<Codec>(() => For(parameterType));
        }

        var args = Expression.Parameter(typeof(object?[]));
        var create = Expression.Lambda<Func<object?[], object>>(
            Expression.Convert(
                Expression.New(constructor, parameters.Select((p, i) => Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), p.ParameterType))),
                typeof(object)),
            args).Compile();

        return new Codec(
            (w, v) =>
            {
                for (var i = 0; i < getters.Length; i++)
                {
                    codecs[i].Value.Write(w, getters[i](v!));
                }
            },
            (r, refs) =>
            {
                var values = new object?[codecs.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = codecs[i].Value.Read(r, refs);
                }

                return create(values);
            });
    }

    private static JsonElement ParseJson(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            return JsonSerializer.Deserialize<JsonElement>(utf8.Span);
        }
        catch (JsonException ex)
        {
            throw new WireFormatException($"A JSON value is malformed: {ex.Message}");
        }
    }

    internal sealed class Codec(Action<WireWriter, object?> write, Func<WireReader, IReferenceActivator, object?> read)
    {
        public void Write(WireWriter writer, object? value) => write(writer, value);

        public object? Read(WireReader reader, IReferenceActivator references) => read(reader, references);
    }
}
