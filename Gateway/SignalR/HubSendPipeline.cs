using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.SignalR;
using Realtime.Gateway.Core;

namespace Realtime.Gateway.SignalR;

/// <summary>
/// The SignalR side of a connection's <see cref="SendPipeline"/>: which hub methods are the pipelined form of another
/// (<see cref="PipelinedSendAttribute"/>), and the pipeline each connection keeps in its features.
/// </summary>
internal static class HubSendPipeline
{
    /// <summary>The hub method name prefix of the pipelined form of a method (see <see cref="ResilientJsonHubProtocol"/>).</summary>
    public const string MethodPrefix = "pipelined:";

    /// <summary>The client method that tells a connection that a send it did not wait for failed: <c>sendFailed({ room, event, reason })</c>.</summary>
    public const string FailedMethod = "sendFailed";

    private static readonly ConcurrentDictionary<MethodInfo, bool> PipelinedMethods = new();

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
            Math.Max(realtime.PipelinedSends, 1), connectionId, realtime.Logger, realtime.PublishAll, (send, error) => RealtimeHub.SendFailed(realtime, connectionId, send, error));
        context.Features.Set(pipeline);
        return pipeline;
    }

    /// <summary>Waits for the connection's queued sends, if it has any; failures were logged already.</summary>
    public static Task DrainAsync(HubCallerContext context) =>
        context.Features.Get<SendPipeline>() is { } pipeline ? pipeline.DrainAsync() : Task.CompletedTask;

    /// <summary>What the invocation of a pipelined method sends.</summary>
    public static PipelinedSend SendOf(MethodInfo method, IReadOnlyList<object?> args)
    {
        var described = method.GetCustomAttribute<PipelinedSendAttribute>()!;
        return new(described.RoomArgument >= 0 ? args[described.RoomArgument] as string : null, args[described.EventArgument] as string ?? "");
    }
}

/// <summary>
/// Marks a hub method as the pipelined form of the method it names with <see cref="HubSendPipeline.MethodPrefix"/>:
/// same parameters, and it queues its send on the connection's <see cref="SendPipeline"/> instead of waiting for it.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PipelinedSendAttribute : Attribute
{
    /// <summary>Which argument names the room the send goes to; -1 when it goes to the namespace.</summary>
    public int RoomArgument { get; init; } = -1;

    /// <summary>Which argument is the event's name.</summary>
    public int EventArgument { get; init; }
}
