using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Realtime.Gateway.SocketIO;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.SocketIO;

/// <summary>
/// An emit whose argument is written by source-generated JSON metadata instead of by reflection: socket.io clients get
/// the value as the metadata writes it, and SignalR clients of the namespace get the same value as the event's data.
/// </summary>
public sealed class SocketIOTypedEmitTests
{
    [Fact]
    public async Task ATypedEmit_ReachesSocketIOAndSignalRClients_AsItsMetadataWritesIt()
    {
        await using var gateway = await TestGateway.StartAsync();
        var io = gateway.Services.GetRequiredService<SocketIOServer>();
        await using var clients = await SocketIOClients.StartAsync();
        await clients.ConnectOrThrowAsync("a", gateway.BaseUri.ToString());
        await using var signalR = await gateway.ConnectAsync("b");

        await io.Sockets.EmitAsync("scored", new Score("ann", 3), TypedJson.Default.Score).Within("the emit");

        var heard = (await clients.WaitForAsync("a", "scored"))[0];
        Assert.Equal("""{"player_name":"ann","points":3}""", heard.GetRawText());
        var data = (await signalR.WaitForEventAsync("scored")).GetProperty("data");
        Assert.Equal("ann", data.GetProperty("player_name").GetString());
        Assert.Equal(3, data.GetProperty("points").GetInt32());
    }

    internal sealed record Score(string PlayerName, int Points);
}

// Snake case: a name reflection with the gateway's own options (camel case) would not write.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SocketIOTypedEmitTests.Score))]
internal sealed partial class TypedJson : JsonSerializerContext;
