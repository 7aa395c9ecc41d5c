using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO.Internal;

namespace Realtime.Gateway.SocketIO;

/// <summary>
/// The emits of a socket's handlers that nobody waits for (<see cref="GatewayOptions.PipelinedSends"/>): queued on the
/// socket's <see cref="SendPipeline"/>, in order, and a failure told to the client as <see cref="SendFailedEvent"/>.
/// </summary>
public sealed partial class Socket
{
    // The socket whose event handler runs in this flow of execution, when its emits are pipelined; see HandleAsync.
    private static readonly AsyncLocal<Socket?> HandlerPipeline = new();

    private SendPipeline? _pipeline;

    /// <summary>
    /// The send pipeline of the socket whose event handler is running, when that event's emits are pipelined (its
    /// client passed no callback); null otherwise, and the emit goes straight to its grain.
    /// </summary>
    internal static SendPipeline? PipelineOfHandler() => HandlerPipeline.Value?.Pipeline;

    private SendPipeline Pipeline
    {
        get
        {
            if (Volatile.Read(ref _pipeline) is { } pipeline)
            {
                return pipeline;
            }

            var hub = Namespace.Server.Hub;
            Interlocked.CompareExchange(ref _pipeline, new SendPipeline(Math.Max(hub.PipelinedSends, 1), Id, hub.Logger, hub.PublishAll, SendFailed), null);
            return _pipeline;
        }
    }

    /// <summary>Completes once every emit the socket's handlers queued has been answered.</summary>
    internal Task DrainSendsAsync() => Volatile.Read(ref _pipeline)?.DrainAsync() ?? Task.CompletedTask;

    /// <summary>
    /// An emit queued by one of the socket's handlers failed, and nobody waits for it: the client is told, as the
    /// event <c>realtime:sendFailed</c> <c>{ room, event, reason }</c>, and it is counted.
    /// </summary>
    private void SendFailed(PipelinedSend send, Exception error)
    {
        var (reason, tag) = SendFailure.Of(error);
        Namespace.Server.Hub.Metrics.SendFailed(tag);
        if (Connected)
        {
            _client.Send(SocketIOEncoding.EventFrame(SocketIOEncoding.SerializeEvent(SendFailedEvent, [new SendFailure(send.Room, send.Event, reason)]), Namespace.Name));
        }
    }

    /// <summary>The event that tells a client that an emit of one of its events' handlers failed.</summary>
    public const string SendFailedEvent = "realtime:sendFailed";
}
