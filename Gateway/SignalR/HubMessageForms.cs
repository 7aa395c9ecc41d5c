using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Gateway.Core;
using Realtime.Wire;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// An <see cref="OutgoingMessage"/> as SignalR connections receive it. A payload comes in SignalR's JSON form (and may
/// carry a socket.io form, left out here), or, for a socket.io emit (<see cref="Contracts.SerializedPayload.Event"/>),
/// in its socket.io form alone, from which the JSON form is made here, once, when a SignalR connection receives it; the
/// form of another hub protocol (MessagePack) is made from the JSON form when a connection of that protocol receives
/// it. A message of a room or namespace carries the group's position: its <c>event</c> argument gets <c>seq</c> and
/// <c>epoch</c>, which a client presents to resume after a reconnect.
/// </summary>
internal sealed class HubMessageForms
{
    private static readonly object Key = new();
    private static readonly byte[] EventPrefix = """{"type":1,"target":"event","arguments":[{"""u8.ToArray();

    private readonly List<SerializedMessage> _forms;
    private SerializedHubMessage? _message;

    private HubMessageForms(OutgoingMessage message)
    {
        _forms = new List<SerializedMessage>(message.Payload.Protocols.Count);
        foreach (var form in message.Payload.Protocols)
        {
            if (form.Protocol != SocketIOPayload.ProtocolName)
            {
                _forms.Add(new SerializedMessage(form.Protocol, form.Protocol == HubJson.ProtocolName ? Stamped(form.Bytes, message.Position) : form.Bytes));
            }
        }
    }

    /// <summary>
    /// The message for SignalR connections of <paramref name="protocol"/>, made once per message; <paramref name="json"/>
    /// is the hub's JSON protocol, for a payload that leaves that form to this gateway.
    /// </summary>
    public static SerializedHubMessage Of(OutgoingMessage message, IHubProtocol protocol, IHubProtocol json) =>
        ((HubMessageForms)message.Form(Key, static m => new HubMessageForms(m))).For(protocol, json, message);

    private SerializedHubMessage For(IHubProtocol protocol, IHubProtocol json, OutgoingMessage message)
    {
        if (_forms.Count == 0 && message.Payload is { Event: { } origin } payload && SocketIOPayload.Find(payload) is { } socketIO)
        {
            _forms.Add(new SerializedMessage(HubJson.ProtocolName, Stamped(SocketIO.Internal.SocketIOEncoding.SignalRForm(socketIO, origin, json), message.Position)));
        }

        foreach (var form in _forms)
        {
            if (form.ProtocolName == protocol.Name)
            {
                return _message ??= new SerializedHubMessage([.. _forms]);
            }
        }

        // A SerializedHubMessage cannot take a form once made; one that a connection already holds keeps the forms it has.
        var jsonForm = _forms.First(f => f.ProtocolName == HubJson.ProtocolName).Serialized;
        _forms.Add(new SerializedMessage(protocol.Name, protocol.GetMessageBytes(HubJson.ToInvocation(jsonForm))));
        return _message = new SerializedHubMessage([.. _forms]);
    }

    /// <summary>
    /// The JSON form with the group's position in the <c>event</c> argument: <c>{"seq":N,"epoch":"E",...}</c>. Other
    /// messages (another client method, no group) go as they are.
    /// </summary>
    private static ReadOnlyMemory<byte> Stamped(ReadOnlyMemory<byte> json, StreamPosition? at)
    {
        if (at is not { ToConnection: false } stamp || !json.Span.StartsWith(EventPrefix))
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
}
