using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Wire;

namespace Realtime.Gateway.SocketIO.Internal;

/// <summary>
/// An <see cref="OutgoingMessage"/> as socket.io sockets receive it: the Engine.IO packets of its event, made once per
/// namespace (which the packets name), from the payload's socket.io form or, when the sender made none, its SignalR
/// JSON form.
/// </summary>
internal sealed class SocketIOFrames
{
    private static readonly object Key = new();

    private readonly ProtocolPayload _form;

    // Almost every message goes to one namespace: its frame is kept on its own, those of any others in the list.
    private string? _firstNamespace;
    private SocketIOFrame? _first;
    private List<(string Namespace, SocketIOFrame Frame)>? _others;

    private SocketIOFrames(OutgoingMessage message) =>
        _form = SocketIOPayload.Find(message.Payload) ?? SocketIOEncoding.FromHubJson(message.Payload);

    /// <summary>The Engine.IO packets that carry <paramref name="message"/> to a socket of <paramref name="namespace"/>.</summary>
    public static SocketIOFrame Of(OutgoingMessage message, string @namespace) =>
        ((SocketIOFrames)message.Form(Key, static m => new SocketIOFrames(m))).For(@namespace);

    private SocketIOFrame For(string @namespace)
    {
        if (Volatile.Read(ref _firstNamespace) == @namespace)
        {
            return _first!;
        }

        if (_others is { } others)
        {
            foreach (var (name, frame) in others)
            {
                if (name == @namespace)
                {
                    return frame;
                }
            }
        }

        var created = SocketIOEncoding.EventFrame(_form, @namespace);
        if (_firstNamespace is null)
        {
            _first = created;
            Volatile.Write(ref _firstNamespace, @namespace);
        }
        else
        {
            (_others ??= []).Add((@namespace, created));
        }

        return created;
    }
}
