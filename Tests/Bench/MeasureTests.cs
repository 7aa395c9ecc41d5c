using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Realtime.Bench.Clients;
using Realtime.Bench.Measure;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Bench;

/// <summary>The harness's bookkeeping: latency percentiles, and the loss and duplicate checks of every run.</summary>
public sealed class MeasureTests
{
    [Fact]
    public void Histogram_Percentiles_AreWithinTheBucketPrecision()
    {
        var histogram = new Histogram();
        for (var v = 1; v <= 100_000; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.Percentile(0.5), 50_000, 50_000 * 1.02);
        Assert.InRange(histogram.Percentile(0.99), 99_000, 99_000 * 1.02);
        Assert.Equal(100_000, histogram.Percentile(1));

        var single = new Histogram();
        single.Record(100);
        Assert.Equal(100, single.Percentile(0.5));
    }

    [Fact]
    public async Task WorkCounters_SumEveryNodesOrleansMessagesAndAllocatedBytes_FromItsPrometheusText()
    {
        // Two nodes' /metrics, as the OpenTelemetry Prometheus exporter writes them.
        var texts = new[]
        {
            "# TYPE dotnet_gc_heap_total_allocated_bytes_total counter\ndotnet_gc_heap_total_allocated_bytes_total 1000 1733500000000\n"
                + "orleans_messaging_sent_messages_size_bytes_count{otel_scope_name=\"Microsoft.Orleans\"} 7\norleans_messaging_sent_local_total 3\n",
            "dotnet_gc_heap_total_allocated_bytes_total{otel_scope_name=\"System.Runtime\"} 2.5e3\norleans_messaging_sent_local_total 4\n",
        };
        var nodes = new List<WebApplication>();
        try
        {
            foreach (var text in texts)
            {
                var node = WebApplication.CreateSlimBuilder();
                node.WebHost.UseUrls("http://127.0.0.1:0");
                var app = node.Build();
                app.MapGet("/metrics", () => text);
                await app.StartAsync().Within("a node to serve its metrics");
                nodes.Add(app);
            }

            var ports = nodes.Select(n => new Uri(n.Urls.Single()).Port).ToArray();
            var counters = await WorkCounters.ReadAsync([], ports).Within("the counters");

            Assert.Equal(new WorkCounters(7, 7, 0, 3500), counters);
            Assert.Equal(new WorkCounters(0, 0, 0, 500), new WorkCounters(7, 7, 0, 4000) - counters);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public void Histogram_BucketsAreContiguous()
    {
        for (long v = 0; v < 1 << 20; v++)
        {
            var index = Histogram.Index(v);
            Assert.True(Histogram.UpperEdge(index) >= v, $"{v} is above its bucket's upper edge");
            Assert.True(index == 0 || Histogram.UpperEdge(index - 1) < v, $"{v} belongs to an earlier bucket");
        }
    }

    [Fact]
    public void Ledger_CountsLostDuplicatedAndMisdeliveredMessages()
    {
        var ledger = new DeliveryLedger(4);
        var connections = Enumerable.Range(0, 4).Select(i => new Receiver(i)).ToArray();

        // Room A is 0, 1 and 2, with sender 0; connection 3 is in no room. Sender 0 sends 3 messages.
        for (var i = 0; i < 3; i++)
        {
            ledger.CountSent(0);
        }

        foreach (var sequence in new[] { 0L, 1, 2 })
        {
            ledger.Deliver(connections[0], 0, sequence, 0);
            ledger.Deliver(connections[1], 0, sequence, 0);
        }

        ledger.Deliver(connections[2], 0, 0, 0); // 1 and 2 lost
        ledger.Deliver(connections[1], 0, 2, 0); // a duplicate
        ledger.Deliver(connections[3], 0, 1, 0); // not a member

        var check = ledger.Verify([new DeliveryLedger.Group([0, 1, 2], [0])]);
        Assert.Equal(new DeliveryLedger.Check(Lost: 2, Duplicated: 1, Unexpected: 1), check);
        Assert.Equal(9, ledger.Expected([new DeliveryLedger.Group([0, 1, 2], [0])]));
        Assert.Equal(9, ledger.Delivered);
    }

    [Fact]
    public void Message_CarriesSenderSequenceAndTimestamp_PaddedToItsSize()
    {
        var message = LoadConnection.Message(12, 345, 6789, 100);
        Assert.Equal(100, message.Length);
        Assert.StartsWith("B|12|345|6789|x", message, StringComparison.Ordinal);
    }

    /// <summary>A connection that is never opened: only its index matters to the ledger.</summary>
    private sealed class Receiver(int index) : LoadConnection(index)
    {
        public override Task JoinAsync(string room, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task RoundTripAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override ValueTask SendToRoomAsync(string room, string message) => ValueTask.CompletedTask;

        public override ValueTask BroadcastAsync(string message) => ValueTask.CompletedTask;

        public override Task SendToRoomAcknowledgedAsync(string room, string message, CancellationToken cancellationToken) => Task.CompletedTask;

        public override Task LeaveAsync(string room, CancellationToken cancellationToken) => Task.CompletedTask;

        protected override Uri EndpointOf(Uri server) => server;

        protected override Task HandshakeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override ValueTask OnMessageAsync(ReadOnlyMemory<byte> message) => ValueTask.CompletedTask;
    }
}
