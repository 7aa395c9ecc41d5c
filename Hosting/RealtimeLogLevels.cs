using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Hosting;

namespace Realtime.Hosting;

/// <summary>The log levels an operator of a realtime node needs, which the gateway and silo hosts start with.</summary>
public static class RealtimeLogLevels
{
    private static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Polly"] = "Warning",
        ["Logging:LogLevel:Realtime.Hosting.Silos.RefusalCheck"] = "Warning",
        ["Logging:LogLevel:Realtime.Grains.Gateways.GatewayService"] = "Warning",
    };

    /// <summary>
    /// Adds them beneath every other configuration source (appsettings.json, the environment, the command line), so
    /// that a host starts quiet and any of its own settings wins: Orleans at warnings, without Polly's line per
    /// placement attempt or the start and stop of the grain services.
    /// </summary>
    public static IHostApplicationBuilder AddRealtimeLogLevels(this IHostApplicationBuilder builder)
    {
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = Defaults });
        return builder;
    }
}
