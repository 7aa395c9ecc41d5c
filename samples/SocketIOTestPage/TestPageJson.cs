using System.Text.Json;
using System.Text.Json.Serialization;

namespace Realtime.Samples.SocketIOTestPage;

/// <summary>What the test page's events answer on <c>my_response</c>: <c>{ data, count }</c>.</summary>
public sealed record PageResponse(JsonElement Data, int Count);

/// <summary>
/// The test page's JSON, source-generated: its answers are written without reflection, through the emit overloads
/// that take a <see cref="System.Text.Json.Serialization.Metadata.JsonTypeInfo{T}"/>.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PageResponse))]
[JsonSerializable(typeof(string))]
internal sealed partial class TestPageJson : JsonSerializerContext;
