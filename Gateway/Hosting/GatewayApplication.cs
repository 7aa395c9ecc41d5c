using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Realtime.Client.Hosting;
using Realtime.Gateway.Admin;
using Realtime.Gateway.Api;
using Realtime.Gateway.SocketIO;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Realtime.Hosting;

namespace Realtime.Gateway.Hosting;

/// <summary>Builds the gateway application: the embedded silo, the hubs, the demo page and the health endpoint.</summary>
public static class GatewayApplication
{
    /// <summary>Builds the gateway; <paramref name="configure"/> adds services, <paramref name="map"/> adds endpoints.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        var mode = builder.Configuration.GetSection(GatewayOptions.SectionName).GetValue(nameof(GatewayOptions.Mode), GatewayMode.Embedded);
        if (mode == GatewayMode.Cluster)
        {
            builder.Services.AddRealtimeClusterClient(builder.Configuration);

            // The Orleans client keeps trying to reach the cluster at start; meanwhile the gateway listens, answers
            // its health endpoints, and is not ready (see /healthz/ready).
            builder.Services.Configure<HostOptions>(options => options.ServicesStartConcurrently = true);
        }
        else
        {
            builder.AddRealtimeEmbeddedSilo();
        }

        builder.Services.AddRealtimeGateway(builder.Configuration);
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        builder.Services.AddOpenApi();
        builder.AddRealtimeTelemetry("realtime-gateway", Internal.GatewayMetrics.MeterName);
        configure?.Invoke(builder);

        var app = builder.Build();
        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.DemoPage)
        {
            var webRoot = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot"));
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = webRoot });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = webRoot });
        }

        app.UseRouting();
        app.UseCors();
        app.UseMiddleware<Internal.AllowedOrigins>();
        app.UseMiddleware<Internal.ConnectionLimit>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapRealtimeHub();
        app.MapSocketIO();
        app.MapRealtimeHttpApi();
        app.MapOpenApi();
        app.MapRealtimeMetrics();
        app.MapRealtimeAdmin();
        app.MapGet("/healthz", () => "ok");

        // Ready once the gateway holds its lease in its hubs' registries: the cluster is reachable, and grains that
        // rebuild their members know this gateway.
        app.MapGet("/healthz/ready", (GatewayLease lease) =>
            lease.IsHeld ? Results.Text("ready") : Results.Text("not registered with the cluster yet", statusCode: 503));
        map?.Invoke(app);
        return app;
    }
}
