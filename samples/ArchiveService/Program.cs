using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Streams;
using Realtime.Client.Hosting;
using Realtime.Client.Streams;
using Realtime.Contracts;

// An archive of a namespace's chat: an Orleans client of the cluster that consumes the namespace's client-event
// stream and writes each event as one JSON line to standard output (redirect it to a file, or ship it to a log
// store). The gateways must stream that namespace's events: Streams:ClientEventNamespaces:0=/chat on every gateway.
//
//   dotnet Realtime.Samples.Archive.dll --Cluster:Redis=127.0.0.1:6379 --Archive:Namespace=/chat
//
// Its subscription lives in the cluster's pub-sub (Redis in a cluster), so it outlives any silo, and the client
// library keeps it (IKeptSubscriptions): if the pub-sub drops it, as Orleans does when a delivery finds this client
// unreachable, it is made again within Client:SubscriptionCheckPeriod. Each event goes through a ClientEventFeed,
// which reads from the room's history what the stream lost with a silo, drops repeats, and names what the history no
// longer holds (logged here as a warning). Stopping the service (Ctrl+C, SIGTERM) gives it up.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace); // stdout carries only the archive
builder.Services.AddRealtimeClusterClient(builder.Configuration);
builder.Services.AddHostedService<Archive>();
await builder.Build().RunAsync();

/// <summary>The subscription: one JSON line per event, in each room's order.</summary>
internal sealed partial class Archive(IClusterClient cluster, IKeptSubscriptions subscriptions, IConfiguration configuration, ILogger<Archive> logger) : IHostedService
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Lock _output = new();
    private IAsyncDisposable? _subscription;
    private ClientEventFeed? _feed;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var hub = configuration["Client:Hub"] ?? "RealtimeHub";
        var @namespace = configuration["Archive:Namespace"] ?? GrainKeys.DefaultNamespace;
        var stream = cluster.GetStreamProvider(RealtimeStreams.ProviderName).GetStream<ClientEvent>(RealtimeStreams.ClientEventsOf(hub, @namespace));
        _feed = new ClientEventFeed(cluster, WriteAsync, gap =>
        {
            Lost(logger, gap.Namespace, gap.Room ?? "(broadcasts)", gap.From, gap.To);
            return Task.CompletedTask;
        });
        _subscription = await subscriptions.SubscribeAsync<ClientEvent>(stream, (clientEvent, _) => _feed.OnNextAsync(clientEvent), cancellationToken);
        Subscribed(logger, hub, @namespace);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }

    private Task WriteAsync(ClientEvent clientEvent)
    {
        var line = JsonSerializer.Serialize(clientEvent, Json);
        lock (_output)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }

        return Task.CompletedTask;
    }

    [LoggerMessage(1, LogLevel.Information, "Archiving the client events of {Hub}{Namespace}.")]
    private static partial void Subscribed(ILogger logger, string hub, string @namespace);

    [LoggerMessage(2, LogLevel.Warning, "Events {From} to {To} of {Namespace} {Room} were lost with a silo, and its history no longer holds them.")]
    private static partial void Lost(ILogger logger, string @namespace, string room, long from, long to);
}
