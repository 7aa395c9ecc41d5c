using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Realtime.Gateway.Internal;

/// <summary>
/// A connection's sends that its client does not wait for (a SignalR <c>send</c>, which carries no invocation id):
/// the gateway puts each on its way to its grain and reads the client's next message without waiting for the grain's
/// answer, up to <see cref="Hosting.GatewayOptions.PipelinedSends"/> unanswered at a time. The calls leave in the
/// order the client sent them, over one connection to the grain's silo, and the grain takes them in that order, so
/// recipients see a sender's messages in order. Any other invocation of the connection first waits for the sends
/// before it (see <see cref="RealtimeHubFilter"/>), so a send followed by a leave is still seen before the leave.
/// </summary>
internal sealed class SendPipeline(int depth, string connectionId, ILogger logger)
{
    /// <summary>The hub method name prefix of the pipelined form of a method (see <see cref="ResilientJsonHubProtocol"/>).</summary>
    public const string MethodPrefix = "pipelined:";

    private const string ItemKey = "Realtime.SendPipeline";

    private static readonly ConcurrentDictionary<MethodInfo, bool> PipelinedMethods = new();

    private readonly Queue<Task> _inFlight = new();

    /// <summary>Whether a hub method is the pipelined form of another (it carries <see cref="PipelinedSendAttribute"/>).</summary>
    public static bool IsPipelined(MethodInfo method) =>
        PipelinedMethods.GetOrAdd(method, static m => m.IsDefined(typeof(PipelinedSendAttribute), inherit: false));

    /// <summary>The pipeline of a connection, made on first use.</summary>
    public static SendPipeline Of(HubCallerContext context, int depth, ILogger logger)
    {
        if (context.Items.TryGetValue(ItemKey, out var existing) && existing is SendPipeline pipeline)
        {
            return pipeline;
        }

        pipeline = new SendPipeline(depth, context.ConnectionId, logger);
        context.Items[ItemKey] = pipeline;
        return pipeline;
    }

    /// <summary>Waits for the connection's pipelined sends, if it has any; failures were logged already.</summary>
    public static Task DrainAsync(HubCallerContext context) =>
        context.Items.TryGetValue(ItemKey, out var item) && item is SendPipeline pipeline ? pipeline.DrainAsync() : Task.CompletedTask;

    /// <summary>
    /// Takes a send that is already on its way; completes at once while fewer than the depth are unanswered, else when
    /// the oldest is answered (how a client that sends faster than the grains answer is slowed down).
    /// </summary>
    public Task Add(Task send)
    {
        if (send.IsCompleted)
        {
            Observe(send);
            return Task.CompletedTask;
        }

        _ = ObserveAsync(send);
        lock (_inFlight)
        {
            Trim();
            _inFlight.Enqueue(send);
            return _inFlight.Count < depth ? Task.CompletedTask : Task.WhenAny(_inFlight.Peek());
        }
    }

    /// <summary>Completes when every send handed in so far is answered, however it ended.</summary>
    public Task DrainAsync()
    {
        lock (_inFlight)
        {
            Trim();
            return _inFlight.Count == 0 ? Task.CompletedTask : Task.WhenAll(_inFlight.Select(send => (Task)Task.WhenAny(send)));
        }
    }

    private void Trim()
    {
        while (_inFlight.TryPeek(out var oldest) && oldest.IsCompleted)
        {
            _inFlight.Dequeue();
        }
    }

    private async Task ObserveAsync(Task send)
    {
        try
        {
            await send;
        }
        catch (Exception ex)
        {
            GatewayLog.PipelinedSendFailed(logger, connectionId, ex);
        }
    }

    private void Observe(Task send)
    {
        if (send.Exception is { } ex)
        {
            GatewayLog.PipelinedSendFailed(logger, connectionId, ex.InnerException ?? ex);
        }
    }
}

/// <summary>
/// Marks a hub method as the pipelined form of the method it names with <see cref="SendPipeline.MethodPrefix"/>: same
/// parameters, and it hands its send to the connection's <see cref="SendPipeline"/> instead of waiting for it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PipelinedSendAttribute : Attribute;
