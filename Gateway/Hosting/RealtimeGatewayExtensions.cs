using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Realtime.Client.Hosting;
using Realtime.Contracts.Hosting;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Cluster;
using Realtime.Gateway.Core;
using Realtime.Gateway.Http;
using Realtime.Gateway.Http.Admin;
using Realtime.Gateway.Observability;
using Realtime.Gateway.SignalR;
using Realtime.Gateway.SocketIO;
using Realtime.Grains.Gateways;
using Realtime.Hosting.Silos;

namespace Realtime.Gateway.Hosting;

public static class RealtimeGatewayExtensions
{
    /// <summary>
    /// Adds SignalR with the grain-backed lifetime manager, so every hub's groups, users and broadcasts go through
    /// grains, and what this gateway's silo hands its deliveries to. Settings come from the <c>Gateway</c> section of
    /// <paramref name="configuration"/>. The host is a gateway silo (<see cref="AddRealtimeGatewaySilo"/>).
    /// </summary>
    public static IServiceCollection AddRealtimeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddSingleton<IConfigureOptions<HubOptions>, ConfigureHubOptions>();
        services.AddOptions<JwtOptions>().Bind(configuration.GetSection(JwtOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JwtOptions>, JwtOptionsValidator>());
        services.AddAuthentication(JwtBearerSetup.SchemeName).AddJwtBearer();
        services.AddSingleton<JwtBearerSetup>();
        services.AddSingleton<IConfigureOptions<JwtBearerOptions>>(static sp => sp.GetRequiredService<JwtBearerSetup>());
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>>(static sp => sp.GetRequiredService<JwtBearerSetup>());
        // JSON and MessagePack clients; hub arguments and events typed as JSON reach MessagePack clients as the same shapes.
        services.AddSignalR(hubs => hubs.AddFilter<RealtimeHubFilter>())
            .AddMessagePackProtocol(options => options.SerializerOptions = RealtimeMessagePack.SerializerOptions);

        // SignalR takes a filter registered as a service from the services; one it is not given it makes anew for every
        // hub invocation, connect and disconnect. The filter keeps no state of its own.
        services.TryAddSingleton<RealtimeHubFilter>();

        // The JSON protocol, wrapped so that a malformed frame gets an error and the connection goes on.
        services.RemoveAll<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol, ResilientJsonHubProtocol>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.AspNetCore.SignalR.Protocol.IHubProtocol, MeteredHubProtocol>());
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<ClientRateLimits>();
        services.TryAddSingleton<OpenConnections>();
        services.AddOptions<PermissionOptions>().Bind(configuration.GetSection(PermissionOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PermissionOptions>, PermissionOptionsValidator>());
        services.TryAddSingleton(static sp => new RealtimePermissions(
            sp.GetRequiredService<IOptions<PermissionOptions>>(), sp.GetRequiredService<IOptions<JwtOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<GatewayMetrics>(), sp.GetService<IRealtimeAuthorizer>()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayIdentity>();
        services.AddSingleton<GatewayReceiver>();
        services.TryAddSingleton<RealtimeGatewayHealthCheck>();
        services.AddSingleton<ILocalGateway>(static sp => sp.GetRequiredService<GatewayReceiver>());
        services.AddSingleton<ServerEvents>();
        services.AddSingleton<IServerEvents>(static sp => sp.GetRequiredService<ServerEvents>());
        services.AddHostedService(static sp => sp.GetRequiredService<ServerEvents>());
        services.AddOptions<RealtimeStreamsOptions>().Bind(configuration.GetSection(RealtimeStreamsOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeStreamsOptions>, RealtimeStreamsOptionsValidator>());
        services.AddSingleton<SentLog>();
        services.AddSingleton<HubCoreServices>();
        services.AddSingleton<HubCores>();
        services.AddSingleton(static sp => sp.GetRequiredService<HubCores>().For<RealtimeHub>());
        services.AddSingleton(typeof(HubLifetimeManager<>), typeof(RealtimeHubLifetimeManager<>));
        services.AddRealtimeSocketIO(configuration);
        services.AddRealtimeAdmin(configuration);
        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<IOptions<GatewayOptions>>((cors, gateway) =>
        {
            var origins = new OriginList(gateway.Value.AllowedOrigins);
            cors.AddPolicy(AllowedOrigins.CorsPolicy, policy => policy
                .SetIsOriginAllowed(origin => !origins.IsEmpty && origins.Allows(origin))
                .AllowAnyHeader()
                .WithMethods("GET", "POST")
                .AllowCredentials());
        });

        // The emitter and the cluster operations, for code hosted in the gateway; they share the gateway's limit,
        // and server-to-server events they send name this gateway as their sender.
        services.RemoveAll<Client.Hosting.NodeName>();
        services.AddSingleton(static sp => new Client.Hosting.NodeName(sp.GetRequiredService<GatewayIdentity>().GatewayId));
        services.AddRealtimeOperations();
        services.AddOptions<RealtimeClientOptions>().Configure<IOptions<GatewayOptions>>((client, gateway) => client.MaxMessageBytes = gateway.Value.MaxMessageBytes);
        return services;
    }

    /// <summary>
    /// Adds the gateway's readiness (<c>/healthz/ready</c> of the stock gateway) to an application's health checks:
    /// healthy once the cluster's membership lists this node's silo as active and its hubs' grains know it serves
    /// them, until it starts to stop. Map it where the readiness probe asks, for example
    /// <c>app.MapHealthChecks("/healthz/ready", new() { Predicate = check =&gt; check.Tags.Contains("ready") })</c>.
    /// </summary>
    /// <param name="checks">The application's health checks (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="tags">Its tags; <c>ready</c> when not given.</param>
    public static IHealthChecksBuilder AddRealtimeGateway(this IHealthChecksBuilder checks, string name = "realtime-gateway", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(checks);
        return checks.Add(new HealthCheckRegistration(name, static sp => sp.GetRequiredService<RealtimeGatewayHealthCheck>(), HealthStatus.Unhealthy, tags ?? ["ready"]));
    }

    /// <summary>
    /// Makes an application's SignalR clustered, as <c>AddStackExchangeRedis()</c> would, but through the realtime
    /// grains: every hub's <c>Clients.All</c>, groups, users and <c>IHubContext</c> reach the connections of every
    /// gateway (<see cref="AddRealtimeGateway(IServiceCollection, IConfiguration)"/>). The application is then a node of the cluster: call
    /// <see cref="AddRealtimeGatewaySilo"/> on its builder too.
    /// </summary>
    public static ISignalRServerBuilder AddRealtime(this ISignalRServerBuilder signalR, IConfiguration configuration)
    {
        signalR.Services.AddRealtimeGateway(configuration);
        return signalR;
    }

    /// <summary>
    /// Makes this process a gateway silo: of the cluster the <c>Cluster</c> section names (<c>Gateway:Mode=Cluster</c>),
    /// or of a cluster of its own on loopback, with no Redis (<c>Gateway:Mode=Embedded</c>, the default; ports from the
    /// <c>Embedded</c> section). Either way the gateway reaches grains as a silo does, and grains reach it through its
    /// silo's gateway service.
    /// </summary>
    public static IHostApplicationBuilder AddRealtimeGatewaySilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var mode = configuration.GetSection(GatewayOptions.SectionName).GetValue(nameof(GatewayOptions.Mode), GatewayMode.Embedded);
        if (mode == GatewayMode.Cluster)
        {
            return builder.AddRealtimeSilo(SiloRoles.Gateway);
        }

        var embedded = configuration.GetSection(EmbeddedSiloOptions.SectionName).Get<EmbeddedSiloOptions>() ?? new EmbeddedSiloOptions();
        var validation = new EmbeddedSiloOptionsValidator().Validate(null, embedded);
        return validation.Failed
            ? throw new OptionsValidationException(EmbeddedSiloOptions.SectionName, typeof(EmbeddedSiloOptions), validation.Failures)
            : builder.AddRealtimeLocalSilo(SiloRoles.Gateway, embedded.SiloPort, embedded.GatewayPort);
    }

    /// <summary>Maps <see cref="RealtimeHub"/> at <see cref="GatewayOptions.HubPath"/> and, for namespaces, one segment below it.</summary>
    public static IEndpointRouteBuilder MapRealtimeHub(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.HubPath;
        endpoints.MapHub<RealtimeHub>(path).RequireCors(AllowedOrigins.CorsPolicy);
        endpoints.MapHub<RealtimeHub>($"{path}/{{{RealtimeHubLifetimeManager<RealtimeHub>.NamespaceRouteValue}}}").RequireCors(AllowedOrigins.CorsPolicy);
        return endpoints;
    }

    private sealed class ConfigureHubOptions(IOptions<GatewayOptions> gateway) : IConfigureOptions<HubOptions>
    {
        public void Configure(HubOptions options) => options.MaximumReceiveMessageSize = gateway.Value.MaxFrameBytes;
    }
}
