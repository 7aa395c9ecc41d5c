using Realtime.Contracts;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.Core;

/// <summary>
/// A connection's sends to rooms and namespaces that its client does not wait for (a SignalR <c>send</c>, which
/// carries no invocation id; a socket.io event without an acknowledgement callback): the gateway queues each and reads
/// the client's next message at once, up to <see cref="GatewayOptions.PipelinedSends"/> queued, after which the
/// client waits for room in the queue. The queue goes to the grains one call at a time, in order; the sends that
/// queued up for one group while a call was on its way go together in the next call
/// (<see cref="LocalHub{THub}.PublishAll"/>). One call at a time is what keeps a sender's messages in order:
/// Orleans does not promise that calls made without waiting arrive in the order they were made. Anything else the
/// connection does first waits for the queue to empty (<see cref="DrainAsync"/>), so a send followed by a leave is
/// still seen before the leave. A send the grain does not take is reported to <paramref name="failed"/>, which tells
/// the client in its protocol: nobody waits for its answer.
/// </summary>
internal sealed class SendPipeline(
    int depth, string connectionId, ILogger logger, Func<IMemberGroupGrain, Publication[], Task> publish, Action<PipelinedSend, Exception> failed)
{
    /// <summary>The most sends put in one call.</summary>
    public const int MaxBatch = 256;

    // Each send with the span it was made in (a hub invocation, a socket.io event), which its grain call continues.
    private readonly Queue<(IMemberGroupGrain Target, Publication Publication, PipelinedSend What, System.Diagnostics.Activity? Span)> _queue = new();
    private readonly List<TaskCompletionSource> _drained = [];
    private TaskCompletionSource? _room;
    private bool _sending;

    /// <summary>
    /// Queues a send; completes at once while the queue has room, else once the queue has gone down (how a client
    /// that sends faster than the grains take its messages is slowed down). A send the grain does not take is reported
    /// with <paramref name="what"/> it was.
    /// </summary>
    public Task Add(IMemberGroupGrain target, Publication publication, PipelinedSend what)
    {
        lock (_queue)
        {
            _queue.Enqueue((target, publication, what, System.Diagnostics.Activity.Current));
            if (!_sending)
            {
                _sending = true;
                _ = SendAllAsync();
            }

            if (_queue.Count < depth)
            {
                return Task.CompletedTask;
            }

            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _room.Task;
        }
    }

    /// <summary>Completes when every send queued so far has been answered, however it ended.</summary>
    public Task DrainAsync()
    {
        lock (_queue)
        {
            if (!_sending)
            {
                return Task.CompletedTask;
            }

            var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _drained.Add(drained);
            return drained.Task;
        }
    }

    private async Task SendAllAsync()
    {
        while (true)
        {
            IMemberGroupGrain target;
            List<(Publication Publication, PipelinedSend What)> taken;
            System.Diagnostics.Activity? span;
            Publication[] batch;
            TaskCompletionSource? room = null;
            lock (_queue)
            {
                if (_queue.Count == 0)
                {
                    _sending = false;
                    foreach (var drained in _drained)
                    {
                        drained.TrySetResult();
                    }

                    _drained.Clear();
                    return;
                }

                (target, _, _, span) = _queue.Peek();
                taken = [];
                while (taken.Count < MaxBatch && _queue.TryPeek(out var next) && next.Target.Equals(target))
                {
                    var (_, publication, send, _) = _queue.Dequeue();
                    taken.Add((publication, send));
                }

                batch = [.. taken.Select(t => t.Publication)];
                if (_room is not null && _queue.Count < depth)
                {
                    (room, _room) = (_room, null);
                }
            }

            room?.TrySetResult();
            try
            {
                // The call continues the trace of the first send it carries.
                System.Diagnostics.Activity.Current = span;
                await publish(target, batch);
            }
            catch (Exception ex)
            {
                GatewayLog.PipelinedSendFailed(logger, connectionId, batch.Length, ex);
                foreach (var (_, send) in taken)
                {
                    failed(send, ex);
                }
            }
        }
    }
}

/// <summary>What a send the client did not wait for was: its room (null for the namespace) and its event.</summary>
internal readonly record struct PipelinedSend(string? Room, string Event);

/// <summary>What a client is told of a send it did not wait for that failed: the room (null for the namespace), the event, and why.</summary>
internal sealed record SendFailure(string? Room, string Event, string Reason)
{
    /// <summary>
    /// Why a send failed, as every protocol tells it, with the tag it is counted under: the cluster could not confirm
    /// it, or the server failed. A protocol with refusals of its own (SignalR's hub exceptions) words those itself.
    /// </summary>
    public static (string Reason, string Tag) Of(Exception error) => ClusterFailure.Is(error)
        ? ($"The cluster could not confirm the send right now; it may not have been delivered. ({error.Message})", RejectionReason.ClusterUnavailable)
        : ("The send failed on the server.", RejectionReason.HubError);
}
