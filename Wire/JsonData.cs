using System.Text.Json;

namespace Realtime.Wire;

/// <summary>Application data as JSON: a <see cref="JsonElement"/> passes through, anything else is serialized with web defaults.</summary>
public static class JsonData
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static JsonElement ToElement(object? value) => value is JsonElement element ? element : JsonSerializer.SerializeToElement(value, Options);

    public static JsonElement[] ToElements(object?[] values) => Array.ConvertAll(values, ToElement);
}
