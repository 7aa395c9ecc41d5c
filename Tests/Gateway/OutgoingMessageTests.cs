using System.Buffers;
using System.Text;
using System.Text.Json;
using MessagePack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;

namespace Realtime.Tests.Gateway;

/// <summary>A message is serialized once per protocol on a gateway, however many members of that protocol receive it.</summary>
public sealed class OutgoingMessageTests
{
    [Fact]
    public void MessagePackForm_IsMadeOnceFromTheJsonForm_AndSharedByEveryMember()
    {
        var json = Encoding.UTF8.GetBytes("""{"type":1,"target":"event","arguments":[{"event":"chat","data":{"text":"hi","n":3,"list":[1.5,null]},"room":"r"}]}""" + "\u001e");
        var message = new OutgoingMessage(new SerializedPayload([new ProtocolPayload("json", json)]));
        var messagePack = new CountingProtocol(new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = RealtimeMessagePack.SerializerOptions })));

        var forMembers = Enumerable.Range(0, 3).Select(_ => HubMessageForms.Of(message, messagePack, new JsonHubProtocol()).GetSerializedMessage(messagePack)).ToArray();
        var forJsonMember = HubMessageForms.Of(message, new JsonHubProtocol(), new JsonHubProtocol()).GetSerializedMessage(new JsonHubProtocol());

        Assert.Equal(1, messagePack.Serialized);
        Assert.All(forMembers, bytes => Assert.True(bytes.Span.SequenceEqual(forMembers[0].Span)));
        Assert.True(forJsonMember.Span.SequenceEqual(json));

        // The MessagePack frame carries the same event, as a MessagePack client reads it.
        var input = new ReadOnlySequence<byte>(forMembers[0]);
        Assert.True(messagePack.TryParseMessage(ref input, new ObjectBinder(), out var parsed));
        var invocation = Assert.IsType<InvocationMessage>(parsed);
        Assert.Equal("event", invocation.Target);
        var received = Assert.IsType<JsonElement>(Assert.Single(invocation.Arguments));
        Assert.Equal("""{"event":"chat","data":{"text":"hi","n":3,"list":[1.5,null]},"room":"r"}""", received.GetRawText());
    }

    [Fact]
    public void ASocketIOEmitLeftWithoutItsSignalRForm_GetsIt_OnceForEveryMember_WithItsOriginAndPosition()
    {
        var socketIO = Realtime.Gateway.SocketIO.Internal.SocketIOEncoding.SerializeEvent("chat", [new { text = "hi" }, new byte[] { 1, 2 }]);
        var origin = new EventOrigin("/chat", "lobby", "socket-1");
        var message = new OutgoingMessage(new SerializedPayload([socketIO]) { Event = origin }, new StreamPosition("room:/chat|lobby", "e1", 7));
        var json = new CountingProtocol(new JsonHubProtocol());
        var messagePack = new MessagePackHubProtocol(Options.Create(new MessagePackHubProtocolOptions { SerializerOptions = RealtimeMessagePack.SerializerOptions }));

        var forMembers = Enumerable.Range(0, 3).Select(_ => HubMessageForms.Of(message, json, json).GetSerializedMessage(json)).ToArray();
        var forMessagePackMember = HubMessageForms.Of(message, messagePack, json).GetSerializedMessage(messagePack);

        Assert.Equal(1, json.Serialized);
        Assert.All(forMembers, bytes => Assert.True(bytes.Span.SequenceEqual(forMembers[0].Span)));
        var expected = """{"seq":7,"epoch":"e1","event":"chat","data":[{"text":"hi"},"AQI="],"namespace":"/chat","room":"lobby","from":"socket-1"}""";
        using (var frame = JsonDocument.Parse(forMembers[0][..^1]))
        {
            Assert.Equal("event", frame.RootElement.GetProperty("target").GetString());
            Assert.Equal(expected, frame.RootElement.GetProperty("arguments")[0].GetRawText());
        }

        var input = new ReadOnlySequence<byte>(forMessagePackMember);
        Assert.True(messagePack.TryParseMessage(ref input, new ObjectBinder(), out var parsed));
        Assert.Equal(expected, Assert.IsType<JsonElement>(Assert.Single(Assert.IsType<InvocationMessage>(parsed).Arguments)).GetRawText());
    }

    [Fact]
    public void MessagePackInput_BecomesJson_BinaryAsBase64()
    {
        var bytes = MessagePackSerializer.Serialize(new Dictionary<object, object?> { ["b"] = new byte[] { 1, 2, 3 }, [7] = null, ["big"] = ulong.MaxValue });

        var element = MessagePackSerializer.Deserialize<JsonElement>(bytes, RealtimeMessagePack.SerializerOptions);

        Assert.Equal("""{"b":"AQID","7":null,"big":18446744073709551615}""", element.GetRawText());
    }

    private sealed class CountingProtocol(IHubProtocol inner) : IHubProtocol
    {
        public int Serialized { get; private set; }

        public string Name => inner.Name;

        public int Version => inner.Version;

        public TransferFormat TransferFormat => inner.TransferFormat;

        public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message)
        {
            Serialized++;
            return inner.GetMessageBytes(message);
        }

        public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);

        public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HubMessage? message) => inner.TryParseMessage(ref input, binder, out message);

        public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);
    }

    private sealed class ObjectBinder : IInvocationBinder
    {
        public IReadOnlyList<Type> GetParameterTypes(string methodName) => [typeof(JsonElement)];

        public Type GetReturnType(string invocationId) => typeof(object);

        public Type GetStreamItemType(string streamId) => typeof(object);
    }
}
