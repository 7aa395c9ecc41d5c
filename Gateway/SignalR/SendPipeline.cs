using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.Observability;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// A connection's sends that its client does not wait for (a SignalR <c>send</c>, which carries no invocation id):
/// the gateway queues each and reads the client's next message at once, up to
/// <see cref="GatewayOptions.PipelinedSends"/> queued, after which the client waits for room in the queue.
/// The queue goes to the grains one call at a time, in order; the sends that queued up for one group while a call was
/// on its way go together in the next call (<see cref="IMemberGroupGrain.PublishAll"/>). One call at a time is what
/// keeps a sender's messages in order: Orleans does not promise that calls made without waiting arrive in the order
/// they were made. Any other invocation of the connection first waits for the queue to empty (see
/// <see cref="RealtimeHubFilter"/>), so a send followed by a leave is still seen before the leave.
/// </summary>
internal sealed class SendPipeline(int depth, string connectionId, ILogger logger, Action<PipelinedSend, Exception> failed)
{
    /// <summary>The hub method name prefix of the pipelined form of a method (see <see cref="ResilientJsonHubProtocol"/>).</summary>
    public const string MethodPrefix = "pipelined:";

    /// <summary>The most sends put in one call.</summary>
    public const int MaxBatch = 256;

    private static readonly ConcurrentDictionary<MethodInfo, bool> PipelinedMethods = new();

    private readonly Queue<(IMemberGroupGrain Target, Publication Publication, PipelinedSend What)> _queue = new();
    private readonly List<TaskCompletionSource> _drained = [];
    private TaskCompletionSource? _room;
    private bool _sending;

    /// <summary>Whether a hub method is the pipelined form of another (it carries <see cref="PipelinedSendAttribute"/>).</summary>
    public static bool IsPipelined(MethodInfo method) =>
        PipelinedMethods.GetOrAdd(method, static m => m.IsDefined(typeof(PipelinedSendAttribute), inherit: false));

    /// <summary>
    /// The pipeline of a connection, made on first use. It is kept in the connection's features, not its items: reading
    /// SignalR's items makes them, a dictionary for every connection. A send the grain does not take is told to the
    /// connection (<see cref="RealtimeHub.SendFailed"/>).
    /// </summary>
    public static SendPipeline Of(HubCallerContext context, LocalHub<RealtimeHub> realtime)
    {
        if (context.Features.Get<SendPipeline>() is { } pipeline)
        {
            return pipeline;
        }

        var connectionId = context.ConnectionId;
        pipeline = new SendPipeline(
            Math.Max(realtime.PipelinedSends, 1), connectionId, realtime.Logger, (send, error) => RealtimeHub.SendFailed(realtime, connectionId, send, error));
        context.Features.Set(pipeline);
        return pipeline;
    }

    /// <summary>Waits for the connection's queued sends, if it has any; failures were logged already.</summary>
    public static Task DrainAsync(HubCallerContext context) =>
        context.Features.Get<SendPipeline>() is { } pipeline ? pipeline.DrainAsync() : Task.CompletedTask;

    /// <summary>
    /// Queues a send; completes at once while the queue has room, else once the queue has gone down (how a client
    /// that sends faster than the grains take its messages is slowed down). A send the grain does not take is reported
    /// with <paramref name="what"/> it was.
    /// </summary>
    public Task Add(IMemberGroupGrain target, Publication publication, PipelinedSend what)
    {
        lock (_queue)
        {
            _queue.Enqueue((target, publication, what));
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

                target = _queue.Peek().Target;
                taken = [];
                while (taken.Count < MaxBatch && _queue.TryPeek(out var next) && next.Target.Equals(target))
                {
                    var (_, publication, send) = _queue.Dequeue();
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
                await (batch.Length == 1 ? target.Publish(batch[0]) : target.PublishAll(batch));
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

/// <summary>
/// Marks a hub method as the pipelined form of the method it names with <see cref="SendPipeline.MethodPrefix"/>: same
/// parameters, and it queues its send on the connection's <see cref="SendPipeline"/> instead of waiting for it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PipelinedSendAttribute : Attribute
{
    /// <summary>Which argument names the room the send goes to; -1 when it goes to the namespace.</summary>
    public int RoomArgument { get; init; } = -1;

    /// <summary>Which argument is the event's name.</summary>
    public int EventArgument { get; init; }
}

/// <summary>What a send the client did not wait for was: its room (null for the namespace) and its event.</summary>
internal readonly record struct PipelinedSend(string? Room, string Event)
{
    /// <summary>The client method that tells a connection that a send it did not wait for failed: <c>sendFailed({ room, event, reason })</c>.</summary>
    public const string FailedMethod = "sendFailed";

    /// <summary>What the invocation of a pipelined method sends.</summary>
    public static PipelinedSend Of(System.Reflection.MethodInfo method, IReadOnlyList<object?> args)
    {
        var described = method.GetCustomAttribute<PipelinedSendAttribute>()!;
        return new(described.RoomArgument >= 0 ? args[described.RoomArgument] as string : null, args[described.EventArgument] as string ?? "");
    }
}
