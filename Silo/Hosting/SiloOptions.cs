using Microsoft.Extensions.Options;

namespace Realtime.Silo.Hosting;

/// <summary>Settings of the silo host itself (configuration section <c>Silo</c>).</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Silo";

    /// <summary>The HTTP port of the health endpoints (<c>/healthz</c>, <c>/healthz/ready</c>) and <c>/stats</c>.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// No longer a setting of its own: the dashboard is <c>Cluster:Dashboard</c>, set alike on every silo and gateway.
    /// Set, it fails the start with that message, rather than being ignored.
    /// </summary>
    public bool? Dashboard { get; set; }

    /// <summary>Where the Orleans Dashboard's page is served on the HTTP port, when <c>Cluster:Dashboard</c> is on.</summary>
    public string DashboardPath { get; set; } = "/dashboard";
}

internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options)
    {
        var failures = new List<string>();
        if (options.HttpPort is < 1 or > 65535)
        {
            failures.Add($"Silo:HttpPort must be a TCP port (1-65535), not {options.HttpPort}.");
        }

        if (options.Dashboard is not null)
        {
            failures.Add("Silo:Dashboard is now Cluster:Dashboard, which every silo and gateway of the cluster must set alike (the dashboard needs its services on all of them).");
        }

        if (!options.DashboardPath.StartsWith('/') || options.DashboardPath.Length < 2 || options.DashboardPath.EndsWith('/'))
        {
            failures.Add($"Silo:DashboardPath must start with '/', name a path, and not end with '/', not '{options.DashboardPath}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
