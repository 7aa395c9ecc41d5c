using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Http.Admin;

internal static class AdminEndpoints
{
    public static IServiceCollection AddRealtimeAdmin(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        services.AddSingleton<AdminSnapshots>();
        services.AddHostedService(static sp => sp.GetRequiredService<AdminSnapshots>());

        // Admin pages are this gateway's own: SignalR's local lifetime manager, not the grain-backed one.
        services.AddSingleton<HubLifetimeManager<AdminHub>, DefaultHubLifetimeManager<AdminHub>>();
        services.AddAuthorizationBuilder().AddPolicy(AdminAccess.PolicyName, policy => policy.AddRequirements(new AdminAccess.Requirement()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, AdminAccess>());
        return services;
    }

    /// <summary>
    /// Maps the admin page at <c>Admin:Path</c>, with its script and the SignalR client it uses, and its hub behind the
    /// admin policy, when the admin view is on. The page itself holds no data: it asks for a key or a token.
    /// </summary>
    public static IEndpointRouteBuilder MapRealtimeAdmin(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<AdminOptions>>().Value;
        if (!options.Enabled)
        {
            return endpoints;
        }

        endpoints.MapHub<AdminHub>(options.Path + "/hub").RequireAuthorization(AdminAccess.PolicyName);
        var page = System.Text.Encoding.UTF8.GetString(BrowserAssets.Get("index.html")).Replace("{{base}}", options.Path, StringComparison.Ordinal);
        endpoints.MapGet(options.Path, () => Results.Content(page, "text/html; charset=utf-8"));
        endpoints.MapGet(options.Path + "/admin.js", BrowserAssets.Script("admin.js"));
        endpoints.MapGet(options.Path + "/admin.css", BrowserAssets.File("admin.css", "text/css; charset=utf-8"));
        endpoints.MapGet(options.Path + "/signalr.min.js", BrowserAssets.Script(BrowserAssets.SignalRClient));
        return endpoints;
    }
}
