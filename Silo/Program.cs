using Realtime.Grains;
using Realtime.Runtime.Hosting;

// A silo hosts the realtime grains. Until the cluster transport exists it serves only its own process, so the
// gateway embeds a silo instead (see README); this host is where cluster membership and the transport attach.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<GrainRuntimeOptions>().Bind(builder.Configuration.GetSection(GrainRuntimeOptions.SectionName));
builder.Services.AddGrainRuntime(runtime => runtime.AddRealtimeGrains());
builder.Build().Run();
