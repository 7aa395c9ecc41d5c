using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using Realtime.Client.Hosting;
using Realtime.Gateway.Admin;
using Realtime.Gateway.Authentication;
using Realtime.Gateway.Authorization;
using Realtime.Gateway.Hubs;
using Realtime.Gateway.Internal;
using Realtime.Gateway.LifetimeManager;
using Realtime.Gateway.SocketIO;
using Realtime.Grains;
using Realtime.Grains.Hosting;

namespace Realtime.Gateway.Hosting;

public static class RealtimeGatewayExtensions
{
    /// <summary>
    /// Adds SignalR with the grain-backed lifetime manager, so every hub's groups, users and broadcasts go through
    /// grains, and the gateway's observer and lease. Settings come from the <c>Gateway</c> section of
    /// <paramref name="configuration"/> (and <c>Cluster:GatewayLease</c>).
    /// </summary>
    public static IServiceCollection AddRealtimeGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddGatewayLeaseOptions(configuration);
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
        services.AddSingleton<GatewayLease>();
        services.AddHostedService(static sp => sp.GetRequiredService<GatewayLease>());
        services.AddSingleton<ServerEvents>();
        services.AddSingleton<IServerEvents>(static sp => sp.GetRequiredService<ServerEvents>());
        services.AddHostedService(static sp => sp.GetRequiredService<ServerEvents>());
        services.AddOptions<RealtimeStreamsOptions>().Bind(configuration.GetSection(RealtimeStreamsOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RealtimeStreamsOptions>, RealtimeStreamsOptionsValidator>());
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
    /// Co-hosts an Orleans silo in this process, with localhost clustering and memory grain storage: the embedded
    /// single-node mode. Settings come from the <c>Embedded</c> section (ports) and the <c>Cluster</c> section
    /// (ids, response timeout) of the builder's configuration.
    /// </summary>
    public static IHostApplicationBuilder AddRealtimeEmbeddedSilo(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var embedded = configuration.GetSection(EmbeddedSiloOptions.SectionName).Get<EmbeddedSiloOptions>() ?? new EmbeddedSiloOptions();
        var validation = new EmbeddedSiloOptionsValidator().Validate(null, embedded);
        if (validation.Failed)
        {
            throw new OptionsValidationException(EmbeddedSiloOptions.SectionName, typeof(EmbeddedSiloOptions), validation.Failures);
        }

        var cluster = configuration.GetSection(RealtimeClusterOptions.SectionName).Get<RealtimeClusterOptions>() ?? new RealtimeClusterOptions();
        var siloPort = embedded.SiloPort == 0 ? FreeLoopbackPort() : embedded.SiloPort;
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(siloPort, embedded.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
            silo.Configure<SiloMessagingOptions>(options => options.ResponseTimeout = cluster.ResponseTimeout);
            foreach (var storage in new[] { RealtimeStorage.Name, RealtimeStorage.PubSubStore })
            {
                silo.AddMemoryGrainStorage(storage);
                silo.Services.AddOptions<MemoryGrainStorageOptions>(storage)
                    .Configure<Serializer>((options, serializer) => options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer));
            }

            silo.AddRealtimeGrains(configuration);
        });
        return builder;
    }

    /// <summary>Maps <see cref="RealtimeHub"/> at <see cref="GatewayOptions.HubPath"/> and, for namespaces, one segment below it.</summary>
    public static IEndpointRouteBuilder MapRealtimeHub(this IEndpointRouteBuilder endpoints)
    {
        var path = endpoints.ServiceProvider.GetRequiredService<IOptions<GatewayOptions>>().Value.HubPath;
        endpoints.MapHub<RealtimeHub>(path).RequireCors(AllowedOrigins.CorsPolicy);
        endpoints.MapHub<RealtimeHub>($"{path}/{{{RealtimeHubLifetimeManager<RealtimeHub>.NamespaceRouteValue}}}").RequireCors(AllowedOrigins.CorsPolicy);
        return endpoints;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class ConfigureHubOptions(IOptions<GatewayOptions> gateway) : IConfigureOptions<HubOptions>
    {
        public void Configure(HubOptions options) => options.MaximumReceiveMessageSize = gateway.Value.MaxFrameBytes;
    }
}
