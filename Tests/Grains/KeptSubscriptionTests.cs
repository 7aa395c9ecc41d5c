using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using Orleans.Streams.Core;
using Orleans.TestingHost;
using Realtime.Client.Hosting;
using Realtime.Client.Streams;
using Realtime.Contracts.Hosting;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Grains;

/// <summary>
/// Kept stream subscriptions on Orleans' in-process test cluster. The cluster's pub-sub drops a subscription the way a
/// silo's pulling agent does when a delivery finds the client unreachable (through Orleans' subscription manager,
/// which leaves the client's own observer in place), and the keeper makes it again.
/// </summary>
public sealed class KeptSubscriptionTests : IAsyncLifetime
{
    private const string Provider = "realtime";

    private InProcessTestCluster _cluster = null!;

    private IClusterClient Client => _cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryStreams(Provider).AddMemoryGrainStorage("PubSubStore");
            silo.Services.AddRealtimeSerialization(); // the grains of this assembly's cluster tests, which the silo finds
        });
        builder.ConfigureClient(client =>
        {
            client.AddMemoryStreams(Provider);
            client.Services.AddRealtimeSerialization();
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync().Within("the test cluster starts", TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task ASubscriptionThePubSubDropped_IsMadeAgainOnItsPeriod_OnceAndCounted()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var resubscriptions = CountResubscriptions(meters.GetRequiredService<IMeterFactory>());
        using var keeper = Keeper(TimeSpan.FromMilliseconds(200), meters.GetRequiredService<IMeterFactory>());
        var (stream, received) = NewStream();

        var subscription = await keeper.SubscribeAsync<int>(stream, (item, _) => Received(received, item)).Within("subscribing");
        await SendUntilReceivedAsync(stream, received, 1);

        await DropEverySubscriptionAsync(stream.StreamId);
        await Eventually.True(() => resubscriptions.Value == 1, "the keeper subscribes again");
        await SendUntilReceivedAsync(stream, received, 2);
        Assert.Single(await stream.GetAllSubscriptionHandles().Within("listing the subscriptions"));

        // Still checked, still held: no second renewal.
        await SendUntilReceivedAsync(stream, received, 3);
        Assert.Equal(1, resubscriptions.Value);
        Assert.Equal(received.Count, received.Distinct().Count());

        await subscription.DisposeAsync().AsTask().Within("giving the subscription up");
        Assert.Empty(await stream.GetAllSubscriptionHandles().Within("listing the subscriptions"));
    }

    [Fact]
    public async Task LosingAGateway_ChecksAtOnce_NotOnlyOnThePeriod()
    {
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var keeper = Keeper(TimeSpan.FromHours(1), meters.GetRequiredService<IMeterFactory>());
        var trigger = new SubscriptionCheckTrigger(keeper);
        var (stream, received) = NewStream();
        await using var subscription = await keeper.SubscribeAsync<int>(stream, (item, _) => Received(received, item)).Within("subscribing");

        await DropEverySubscriptionAsync(stream.StreamId);
        trigger.NotifyGatewayCountChanged(currentNumberOfGateways: 1, previousNumberOfGateways: 2, connectionRecovered: false);
        await SendUntilReceivedAsync(stream, received, 1);

        // Losing the last gateway checks too.
        await DropEverySubscriptionAsync(stream.StreamId);
        trigger.NotifyClusterConnectionLost();
        await SendUntilReceivedAsync(stream, received, 2);
    }

    private static KeptSubscriptions Keeper(TimeSpan period, IMeterFactory meters) =>
        new(Options.Create(new RealtimeClientOptions { SubscriptionCheckPeriod = period }), meters, NullLogger<KeptSubscriptions>.Instance);

    private (IAsyncStream<int> Stream, ConcurrentQueue<int> Received) NewStream() =>
        (Client.GetStreamProvider(Provider).GetStream<int>(StreamId.Create("kept-test", Guid.NewGuid())), new ConcurrentQueue<int>());

    private static Task Received(ConcurrentQueue<int> received, int item)
    {
        received.Enqueue(item);
        return Task.CompletedTask;
    }

    /// <summary>What a silo's pulling agent does to a consumer it cannot reach: the pub-sub forgets it, the consumer does not know.</summary>
    private async Task DropEverySubscriptionAsync(StreamId stream)
    {
        var manager = Client.ServiceProvider.GetRequiredService<IStreamSubscriptionManagerAdmin>()
            .GetStreamSubscriptionManager(StreamSubscriptionManagerType.ExplicitSubscribeOnly);
        foreach (var subscription in await manager.GetSubscriptions(Provider, stream).Within("listing the pub-sub's subscriptions"))
        {
            await manager.RemoveSubscription(Provider, stream, subscription.SubscriptionId).Within("dropping a subscription");
        }

        Assert.Empty(await manager.GetSubscriptions(Provider, stream).Within("listing the pub-sub's subscriptions"));
    }

    /// <summary>Sends the item again each second until it arrives (a send before the new subscription is not delivered).</summary>
    private static async Task SendUntilReceivedAsync(IAsyncStream<int> stream, ConcurrentQueue<int> received, int item)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            await stream.OnNextAsync(item).Within("sending on the stream");
            try
            {
                await Eventually.True(() => received.Contains(item), $"item {item} arrives", TimeSpan.FromSeconds(1));
                return;
            }
            catch (TimeoutException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    private static ResubscriptionCount CountResubscriptions(IMeterFactory scope) => new(scope);

    private sealed class ResubscriptionCount : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _value;

        public ResubscriptionCount(IMeterFactory scope)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == scope && instrument.Name == "realtime.client.stream.resubscriptions")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _value, value));
            _listener.Start();
        }

        public long Value => Interlocked.Read(ref _value);

        public void Dispose() => _listener.Dispose();
    }
}
