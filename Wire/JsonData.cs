using System.Text.Json;

namespace Realtime.Wire;

/// <summary>Application data as JSON: a <see cref="JsonElement"/> passes through, anything else is serialized with web defaults.</summary>
public static class JsonData
{
    /// <summary>The serializer options for application data: web defaults (camelCase names).</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary><paramref name="value"/> as JSON.</summary>
    public static JsonElement ToElement(object? value) => value is JsonElement element ? element : JsonSerializer.SerializeToElement(value, Options);

    /// <summary>Each of <paramref name="values"/> as JSON.</summary>
    public static JsonElement[] ToElements(object?[] values) => Array.ConvertAll(values, ToElement);
}
