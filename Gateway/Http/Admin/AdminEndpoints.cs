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

        var root = AppContext.BaseDirectory;
        var folder = Path.Combine(root, "AdminPage");
        endpoints.MapHub<AdminHub>(options.Path + "/hub").RequireAuthorization(AdminAccess.PolicyName);
        var page = File.ReadAllText(Path.Combine(folder, "index.html")).Replace("{{base}}", options.Path, StringComparison.Ordinal);
        endpoints.MapGet(options.Path, () => Results.Content(page, "text/html; charset=utf-8"));
        endpoints.MapGet(options.Path + "/admin.js", () => Results.File(Path.Combine(folder, "admin.js"), "text/javascript; charset=utf-8"));
        endpoints.MapGet(options.Path + "/admin.css", () => Results.File(Path.Combine(folder, "admin.css"), "text/css; charset=utf-8"));
        endpoints.MapGet(options.Path + "/signalr.min.js", () => Results.File(Path.Combine(root, "wwwroot", "lib", "signalr", "signalr.min.js"), "text/javascript; charset=utf-8"));
        return endpoints;
    }
}
