using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Contracts;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO.Internal;
using Realtime.Wire;

namespace Realtime.Gateway.Core;

/// <summary>
/// One message on its way to this gateway's recipients. Each protocol's frame is made on first use and then shared
/// by every recipient of that protocol, so the message is encoded once per protocol (and, for socket.io, per
/// namespace, which its frames name) however many connections receive it. A payload comes in SignalR's JSON form
/// (and may carry a socket.io form); the form of another hub protocol (MessagePack) is made from the JSON form when a
/// connection of that protocol receives it. A message of a room or namespace carries the group's position: its
/// <c>event</c> argument gets <c>seq</c> and <c>epoch</c>, which a client presents to resume after a reconnect.
/// Used by one thread at a time.
/// </summary>
internal sealed class OutgoingMessage(SerializedPayload payload, StreamPosition? position = null)
{
    private static readonly byte[] EventPrefix = """{"type":1,"target":"event","arguments":[{"""u8.ToArray();

    private SerializedHubMessage? _hubMessage;
    private List<SerializedMessage>? _hubForms;
    private ProtocolPayload? _socketIOForm;
    private List<(string Namespace, SocketIOFrame Frame)>? _socketIOFrames;

    public SerializedPayload Payload { get; } = payload;

    /// <summary>Where the message stands in the stream of its room, namespace or session; null for other messages.</summary>
    public StreamPosition? Position { get; } = position;

    /// <summary>The message for SignalR connections; it holds the form of <paramref name="protocol"/>.</summary>
    public SerializedHubMessage HubMessage(IHubProtocol protocol)
    {
        if (_hubForms is null)
        {
            _hubForms = new List<SerializedMessage>(Payload.Protocols.Count);
            foreach (var form in Payload.Protocols)
            {
                if (form.Protocol != SocketIOPayload.ProtocolName)
                {
                    _hubForms.Add(new SerializedMessage(form.Protocol, form.Protocol == HubJson.ProtocolName ? Stamped(form.Bytes) : form.Bytes));
                }
            }
        }

        foreach (var form in _hubForms)
        {
            if (form.ProtocolName == protocol.Name)
            {
                return _hubMessage ??= new SerializedHubMessage([.. _hubForms]);
            }
        }

        // A SerializedHubMessage cannot take a form once made; one that a connection already holds keeps the forms it has.
        var json = _hubForms.First(f => f.ProtocolName == HubJson.ProtocolName).Serialized;
        _hubForms.Add(new SerializedMessage(protocol.Name, protocol.GetMessageBytes(HubJson.ToInvocation(json))));
        return _hubMessage = new SerializedHubMessage([.. _hubForms]);
    }

    /// <summary>
    /// The JSON form with the group's position in the <c>event</c> argument: <c>{"seq":N,"epoch":"E",...}</c>. Other
    /// messages (another client method, no group) go as they are.
    /// </summary>
    private ReadOnlyMemory<byte> Stamped(ReadOnlyMemory<byte> json)
    {
        if (Position is not { ToConnection: false } stamp || !json.Span.StartsWith(EventPrefix))
        {
            return json;
        }

        var position = System.Text.Encoding.UTF8.GetBytes(
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"seq\":{stamp.Sequence},\"epoch\":\"{stamp.Epoch}\","));
        var stamped = new byte[json.Length + position.Length];
        EventPrefix.CopyTo(stamped, 0);
        position.CopyTo(stamped, EventPrefix.Length);
        json.Span[EventPrefix.Length..].CopyTo(stamped.AsSpan(EventPrefix.Length + position.Length));
        return stamped;
    }

    /// <summary>The Engine.IO packets that carry the message to a socket.io socket of <paramref name="namespace"/>.</summary>
    public SocketIOFrame SocketIOFrame(string @namespace)
    {
        _socketIOFrames ??= [];
        foreach (var (name, frame) in _socketIOFrames)
        {
            if (name == @namespace)
            {
                return frame;
            }
        }

        _socketIOForm ??= SocketIOPayload.Find(Payload) ?? SocketIOEncoding.FromHubJson(Payload);
        var created = SocketIOEncoding.EventFrame(_socketIOForm, @namespace);
        _socketIOFrames.Add((@namespace, created));
        return created;
    }
}

/// <summary>
/// Where a message stands in the stream of what sent it: a room or namespace (by grain key), or the session of the
/// one connection it is for (<see cref="ToConnection"/>); with that stream's epoch and the message's sequence number.
/// </summary>
internal readonly record struct StreamPosition(string Key, string Epoch, long Sequence, bool ToConnection = false);
