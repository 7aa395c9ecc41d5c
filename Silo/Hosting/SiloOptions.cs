using Microsoft.Extensions.Options;

namespace Realtime.Silo.Hosting;

/// <summary>Settings of the silo host itself (configuration section <c>Silo</c>).</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Silo";

    /// <summary>The HTTP port of the health endpoints (<c>/healthz</c>, <c>/healthz/ready</c>) and <c>/stats</c>.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>
    /// Serve the Orleans Dashboard (<c>Microsoft.Orleans.Dashboard</c>) at <see cref="DashboardPath"/> on the HTTP
    /// port. Turn it on for every silo of the cluster alike: its grains run on all of them. It profiles every grain
    /// call, which costs some CPU.
    /// </summary>
    public bool Dashboard { get; set; }

    /// <summary>Where the dashboard is served.</summary>
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

        if (!options.DashboardPath.StartsWith('/') || options.DashboardPath.Length < 2 || options.DashboardPath.EndsWith('/'))
        {
            failures.Add($"Silo:DashboardPath must start with '/', name a path, and not end with '/', not '{options.DashboardPath}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
