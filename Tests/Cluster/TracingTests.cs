using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Realtime.Client.Emitting;
using Realtime.Client.Hosting;
using Realtime.Tests.Infrastructure;
using Realtime.Tests.Infrastructure.Processes;

namespace Realtime.Tests.Cluster;

/// <summary>
/// With <c>Telemetry:Tracing</c> on, one message is one trace across the cluster: the hub invocation on the sender's
/// gateway (or a service's own span around its emit), the room grain call, and the delivery on each gateway, linked
/// parent to child. Both gateways (which
/// are the cluster's silos) run in this process, so that one listener sees every span.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class TracingTests
{
    [Fact]
    public async Task AMessagesSpans_FromTheHubInvocationThroughTheRoomGrainToTheOtherGatewaysDelivery_AreOneTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Record(spans, "Microsoft.AspNetCore.SignalR.Server");
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        await using var gatewayA = await TracedGatewayAsync(cluster, "traceA");
        await using var gatewayB = await TracedGatewayAsync(cluster, "traceB");
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
        var publish = Assert.Single(trace, s => s.Source.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.Kind == ActivityKind.Client && s.DisplayName.StartsWith("IMemberGroupGrain/", StringComparison.Ordinal));
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

    [Fact]
    public async Task AServicesEmit_AndEachGatewaysDelivery_AreOneTrace_UnderTheServicesOwnSpan()
    {
        using var service = new ActivitySource("Realtime.Tests.Service");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Record(spans, service.Name);
        await using var cluster = await TestCluster.StartAsync(silos: 0, gateways: 0);
        await using var gatewayA = await TracedGatewayAsync(cluster, "emitA");
        await using var gatewayB = await TracedGatewayAsync(cluster, "emitB");
        await using var onA = await gatewayA.ConnectAsync("on-a");
        await using var onB = await gatewayB.ConnectAsync("on-b");
        await onA.InvokeAsync("Join", "orders");
        await onB.InvokeAsync("Join", "orders");

        // A service: the client library in this process, with tracing on as its configuration says.
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddCommandLine([.. cluster.ClusterArguments(), "--Telemetry:Tracing=true", "--Logging:LogLevel:Default=Warning"]);
        builder.Services.AddRealtimeClusterClient(builder.Configuration);
        using var client = builder.Build();
        await client.StartAsync().Within("the service's cluster client to connect", TimeSpan.FromSeconds(30));
        var emitter = client.Services.GetRequiredService<IRealtimeEmitter>();

        ActivityTraceId traceId;
        using (var order = service.StartActivity("ship order"))
        {
            traceId = order!.TraceId;
            await emitter.Room("/", "orders").EmitAsync("shipped", new { order = 42 }).Within("the service's emit");
        }

        await onA.WaitForEventAsync("shipped");
        await onB.WaitForEventAsync("shipped");
        var deliveries = await Eventually.Value(
            () => spans.Where(s => s.TraceId == traceId && s.Source.Name == "Realtime.Gateway" && s.DisplayName == "realtime deliver").ToList() is { Count: 2 } both ? both : null,
            "both gateways' delivery spans in the service's trace");
        var trace = spans.Where(s => s.TraceId == traceId).ToList();
        var root = Assert.Single(trace, s => s.Source.Name == "Realtime.Tests.Service");
        foreach (var delivery in deliveries)
        {
            Assert.True(IsBelow(delivery, root, trace), $"a delivery ({Describe(delivery)}) is under the service's span; the trace: {string.Join(" | ", trace.Select(Describe))}");
        }

        await client.StopAsync();
    }

    /// <summary>
    /// Records every span of this process's gateways and Orleans' calls, and of <paramref name="source"/>, as it stops;
    /// the caller disposes the listener.
    /// </summary>
    private static ActivityListener Record(ConcurrentQueue<Activity> spans, string source)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Realtime.Gateway" || s.Name == source || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    /// <summary>A gateway of the cluster in this process, with tracing on.</summary>
    private static Task<TestGateway> TracedGatewayAsync(TestCluster cluster, string name) =>
        TestGateway.StartAsync([.. cluster.GatewayArguments(name), "--Telemetry:Tracing=true"]);

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
