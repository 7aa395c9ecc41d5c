using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Realtime.Contracts;

namespace Realtime.Tests.Grains;

/// <summary>
/// A message's serialized forms cross silos on every delivery. However a caller lists them (a collection expression
/// makes a list type of the compiler's own, which Orleans looks a codec up for again on every message), the payload
/// holds an array, which Orleans has a codec for, and the forms come through a round trip unchanged.
/// </summary>
public sealed class SerializedPayloadTests
{
    [Fact]
    public void FormsGivenAsAnyList_AreKeptAsAnArray_AndComeThroughOrleansSerializationUnchanged()
    {
        IReadOnlyList<ProtocolPayload> one = [new ProtocolPayload("json", Encoding.UTF8.GetBytes("{}"))];
        ProtocolPayload[] two = [.. one, new ProtocolPayload("socket.io", Encoding.UTF8.GetBytes("42[\"e\"]"))];
        IReadOnlyList<ProtocolPayload> spread = [.. two];
        using var services = new ServiceCollection().AddSerializer(builder => builder.AddAssembly(typeof(SerializedPayload).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        foreach (var forms in new[] { one, spread, two.ToList() })
        {
            var payload = new SerializedPayload(forms, 42);
            Assert.IsType<ProtocolPayload[]>(payload.Protocols);

            var copy = serializer.Deserialize<SerializedPayload>(serializer.SerializeToArray(payload))!;
            Assert.Equal(42, copy.SentAtTicks);
            Assert.Equal(forms.Select(f => (f.Protocol, Encoding.UTF8.GetString(f.Bytes.Span))), copy.Protocols.Select(f => (f.Protocol, Encoding.UTF8.GetString(f.Bytes.Span))));
            Assert.Null(copy.Event);
        }

        // A socket.io emit that leaves its SignalR form to the receiving gateways carries where it came from.
        var socketIO = new SerializedPayload([two[1]], 42) { Event = new EventOrigin("/chat", null, "socket-1") };
        Assert.Equal(new EventOrigin("/chat", null, "socket-1"), serializer.Deserialize<SerializedPayload>(serializer.SerializeToArray(socketIO))!.Event);
    }
}
