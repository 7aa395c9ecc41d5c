using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Realtime.Gateway.Internal;
using Realtime.Client.Emitting;
using Realtime.Gateway.SocketIO.Internal;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>
/// One message on its way to this gateway's recipients. Each protocol's frame is made on first use and then shared
/// by every recipient of that protocol, so the message is encoded once per protocol (and, for socket.io, per
/// namespace, which its frames name) however many connections receive it. A payload comes in SignalR's JSON form
/// (and may carry a socket.io form); the form of another hub protocol (MessagePack) is made from the JSON form when a
/// connection of that protocol receives it. Used by one thread at a time.
/// </summary>
internal sealed class OutgoingMessage(SerializedPayload payload)
{
    private SerializedHubMessage? _hubMessage;
    private List<SerializedMessage>? _hubForms;
    private ProtocolPayload? _socketIOForm;
    private List<(string Namespace, SocketIOFrame Frame)>? _socketIOFrames;

    public SerializedPayload Payload { get; } = payload;

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
                    _hubForms.Add(new SerializedMessage(form.Protocol, form.Bytes));
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
        _hubForms.Add(new SerializedMessage(protocol.Name, protocol.GetMessageBytes(HubJson.ToInvocation(Payload))));
        return _hubMessage = new SerializedHubMessage([.. _hubForms]);
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
