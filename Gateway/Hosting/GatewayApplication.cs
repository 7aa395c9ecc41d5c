using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Realtime.Gateway.Core;
using Realtime.Gateway.Http;
using Realtime.Gateway.Http.Admin;
using Realtime.Gateway.Http.Api;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SocketIO;
using Realtime.Hosting;

namespace Realtime.Gateway.Hosting;

/// <summary>Builds the gateway application: the embedded silo, the hubs, the demo page and the health endpoint.</summary>
public static class GatewayApplication
{
    /// <summary>What <c>UseAuthentication</c> writes into the application's properties; not public in ASP.NET Core.</summary>
    private const string AuthenticationMiddlewareSetKey = "__AuthenticationMiddlewareSet";

    /// <summary>Builds the gateway; <paramref name="configure"/> adds services, <paramref name="map"/> adds endpoints.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? map = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // An application built on this host starts as quietly as the gateway does.
        builder.AddRealtimeLogLevels();
        builder.AddRealtimeGatewaySilo();
        builder.Services.AddRealtimeGateway(builder.Configuration);
        builder.Services.AddOptions<ApiOptions>().Bind(builder.Configuration.GetSection(ApiOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        builder.Services.AddOpenApi();
        builder.AddRealtimeTelemetry("realtime-gateway", GatewayMetrics.MeterName, Client.Hosting.RealtimeClientTelemetry.MeterName);
        configure?.Invoke(builder);

        var app = builder.Build();
        // The demo page is the host's (Gateway.Host's wwwroot), with the browser clients the library serves.
        var demoPage = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        var serveDemoPage = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.DemoPage && Directory.Exists(demoPage);
        if (serveDemoPage)
        {
            var webRoot = new PhysicalFileProvider(demoPage);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = webRoot });
            app.UseStaticFiles(new StaticFileOptions { FileProvider = webRoot });
        }

        app.UseRouting();
        // ASP.NET Core's CORS middleware, given its policy provider once: as UseCors() adds it, it resolves the provider
        // from request services for every request, opening a request scope that each WebSocket holds for its whole life.
        app.Use(next =>
        {
            var cors = new Microsoft.AspNetCore.Cors.Infrastructure.CorsMiddleware(
                next, app.Services.GetRequiredService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsService>(), app.Services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
            var policies = app.Services.GetRequiredService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsPolicyProvider>();
            return context => cors.Invoke(context, policies);
        });
        app.UseMiddleware<AllowedOrigins>();
        app.UseMiddleware<ConnectionLimit>();
        // A request without credentials is anonymous whatever the schemes; skipping authentication for it keeps each
        // such WebSocket, which is one request for its whole life, from holding a handler and a request scope (about
        // 1 KiB). WebApplication adds UseAuthentication() by itself unless the root pipeline is marked as having it, and a
        // branch's mark does not reach the root: the mark is ASP.NET Core's own property name.
        app.UseWhen(RequestToken.HasCredentials, branch => branch.UseAuthentication());
        ((IApplicationBuilder)app).Properties[AuthenticationMiddlewareSetKey] = true;
        app.UseAuthorization();
        app.MapRealtimeHub();
        app.MapSocketIO();
        app.MapRealtimeHttpApi();
        app.MapOpenApi();
        app.MapRealtimeMetrics();
        app.MapRealtimeAdmin();
        if (serveDemoPage)
        {
            app.MapRealtimeBrowserClients();
        }

        app.MapGet("/healthz", () => "ok");

        // Ready once the cluster's membership lists this gateway's silo as active and its hubs' grains know it serves
        // them (a hub-wide send reaches it), and until it starts to stop.
        app.MapGet("/healthz/ready", (RealtimeGatewayHealthCheck check) =>
            check.NotReadyBecause() is { } why ? Results.Text(why, statusCode: 503) : Results.Text("ready"));
        map?.Invoke(app);
        return app;
    }
}
