using Microsoft.AspNetCore.SignalR;
using Realtime.Client.Emitting;
using Realtime.Gateway.SocketIO.Internal;
using Realtime.Grains;

namespace Realtime.Gateway.LifetimeManager;

/// <summary>
/// One message on its way to this gateway's recipients. Each protocol's frame is made on first use and then shared
/// by every recipient of that protocol, so the message is encoded once per protocol (and, for socket.io, per
/// namespace, which its frames name) however many connections receive it. Used by one thread at a time.
/// </summary>
internal sealed class OutgoingMessage(SerializedPayload payload)
{
    private SerializedHubMessage? _hubMessage;
    private ProtocolPayload? _socketIOForm;
    private List<(string Namespace, SocketIOFrame Frame)>? _socketIOFrames;

    public SerializedPayload Payload { get; } = payload;

    public SerializedHubMessage HubMessage => _hubMessage ??= CreateHubMessage();

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

    private SerializedHubMessage CreateHubMessage()
    {
        var messages = new List<SerializedMessage>(Payload.Protocols.Count);
        foreach (var form in Payload.Protocols)
        {
            if (form.Protocol != SocketIOPayload.ProtocolName)
            {
                messages.Add(new SerializedMessage(form.Protocol, form.Bytes));
            }
        }

        return new SerializedHubMessage(messages);
    }
}
