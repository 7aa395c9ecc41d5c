using System.Collections.Concurrent;
using System.Diagnostics;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// With <c>Telemetry:Tracing</c> on, one message is one trace across the cluster: the hub invocation on the sender's
/// gateway, the room grain call, and the delivery on the other gateway, linked parent to child. Both gateways (which
/// are the cluster's silos) run in this process, so that one listener sees every span.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TracingTests
{
    [Fact]
    public async Task AMessagesSpans_FromTheHubInvocationThroughTheRoomGrainToTheOtherGatewaysDelivery_AreOneTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Realtime.Gateway" or "Microsoft.AspNetCore.SignalR.Server" || source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        await using var gatewayA = await TestGateway.StartAsync([.. cluster.GatewayArguments("traceA"), "--Telemetry:Tracing=true"]);
        await using var gatewayB = await TestGateway.StartAsync([.. cluster.GatewayArguments("traceB"), "--Telemetry:Tracing=true"]);
        await using var sender = await gatewayA.ConnectAsync("sender");
        await using var receiver = await gatewayB.ConnectAsync("receiver");
        await sender.InvokeAsync("Join", "traced");
        await receiver.InvokeAsync("Join", "traced");

        await sender.InvokeAsync("SendToRoom", "traced", "hello", "world");
        await receiver.WaitForEventAsync("hello");

        var invocation = await Eventually.Value(
            () => spans.FirstOrDefault(s => s.Source.Name == "Microsoft.AspNetCore.SignalR.Server" && s.DisplayName.EndsWith("SendToRoom", StringComparison.Ordinal)),
            "the hub invocation's span");
        var trace = spans.Where(s => s.TraceId == invocation.TraceId).ToList();
        var publish = Assert.Single(trace, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.Kind == ActivityKind.Client && s.DisplayName.Contains("Publish", StringComparison.Ordinal));
        Assert.True(IsBelow(publish, invocation, trace), $"the room grain call ({publish.DisplayName}) is under the hub invocation");

        var deliveries = await Eventually.Value(
            () => spans.Where(s => s.TraceId == invocation.TraceId && s.Source.Name == "Realtime.Gateway" && s.DisplayName == "realtime deliver").ToList() is { Count: 2 } both ? both : null,
            "both gateways' delivery spans in the message's trace");
        trace = [.. spans.Where(s => s.TraceId == invocation.TraceId)];
        foreach (var delivery in deliveries)
        {
            Assert.True(IsBelow(delivery, publish, trace), $"a delivery ({Describe(delivery)}) is under the room grain call; the trace: {string.Join(" | ", trace.Select(Describe))}");
            Assert.Equal("Room", delivery.GetTagItem("realtime.target"));
        }
    }

    /// <summary>Whether <paramref name="span"/> descends from <paramref name="ancestor"/> through spans of <paramref name="trace"/>.</summary>
    private static bool IsBelow(Activity span, Activity ancestor, IReadOnlyList<Activity> trace)
    {
        var byId = trace.ToDictionary(s => s.SpanId);
        var current = span;
        for (var depth = 0; depth < 32; depth++)
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }

            if (!byId.TryGetValue(current.ParentSpanId, out var parent))
            {
                return false;
            }

            current = parent;
        }

        return false;
    }

    private static string Describe(Activity span) => $"{span.Source.Name}:{span.DisplayName}:{span.Kind} {span.SpanId}<-{span.ParentSpanId}";
}
