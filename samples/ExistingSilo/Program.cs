using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Storage;
using Realtime.Client.Hosting;
using Realtime.Grains;
using Realtime.Grains.Gateways;
using Realtime.Samples.ExistingSilo;
using StackExchange.Redis;

// An application's own Orleans silo (its clustering, its storage, its grains), which joins a realtime cluster and hosts
// the realtime grains beside its own with one call: AddRealtimeGrains. Its grains reach the realtime clients through
// IRealtimeEmitter (AddRealtimeOperations), as any service does. Run it with the cluster's settings:
//   dotnet run --project samples/ExistingSilo -- --Cluster:Redis=127.0.0.1:6379 --Urls=http://127.0.0.1:5080
// then POST /score/ann/3: every member of the room "scoreboard" (on any gateway) gets the event "score".
var builder = WebApplication.CreateBuilder(args);
var redis = ConfigurationOptions.Parse(builder.Configuration["Cluster:Redis"] ?? "127.0.0.1:6379");
redis.AbortOnConnectFail = false;
builder.UseOrleans(silo =>
{
    // What the application had already: its cluster, in Redis.
    silo.Configure<ClusterOptions>(options =>
    {
        options.ClusterId = builder.Configuration["Cluster:ClusterId"] ?? "realtime";
        options.ServiceId = builder.Configuration["Cluster:ServiceId"] ?? "realtime";
    });
    silo.ConfigureEndpoints(
        System.Net.IPAddress.Loopback, builder.Configuration.GetValue("Cluster:SiloPort", 11120), builder.Configuration.GetValue("Cluster:GatewayPort", 30020), listenOnAnyHostAddress: false);
    silo.UseRedisClustering(options => options.ConfigurationOptions = redis);

    // What the realtime grains need from the host: stream subscriptions kept where they outlive a silo (the storage
    // named RealtimeStorage.PubSubStore), then the grains themselves. The Realtime settings (History, Streams, Cluster)
    // are read from the configuration.
    silo.AddRedisGrainStorage(RealtimeStorage.PubSubStore, storage => storage.ConfigurationOptions = redis);
    silo.AddRealtimeGrains(builder.Configuration);

    // Say in the silo's metadata that it holds grains and no connections, so that with Cluster:GrainPlacement=GrainSilos
    // the rooms and namespaces live here rather than on the gateways; and which version of the realtime contracts it
    // reads, without which the gateways keep to what every version reads.
    silo.UseSiloMetadata(SiloRoles.Metadata(SiloRoles.Grains));
});

// The emitter and the cluster-wide operations, on this silo's own grain factory.
builder.Services.AddRealtimeOperations();

var app = builder.Build();
app.MapPost("/score/{player}/{points:int}", async (string player, int points, IGrainFactory grains) =>
    Results.Ok(await grains.GetGrain<IScoreboardGrain>("main").Score(player, points)));
app.Run();
