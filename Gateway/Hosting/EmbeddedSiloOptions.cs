using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Hosting;

/// <summary>
/// Settings of the Orleans silo an embedded gateway co-hosts (configuration section <c>Embedded</c>). It binds to
/// loopback only: nothing outside the process needs it unless <see cref="GatewayPort"/> is set.
/// </summary>
public sealed class EmbeddedSiloOptions
{
    public const string SectionName = "Embedded";

    /// <summary>The silo's loopback port; 0 takes a free one.</summary>
    public int SiloPort { get; set; }

    /// <summary>
    /// The loopback port Orleans clients (an internal service using the client library with <c>Cluster:Silos</c>)
    /// connect to; 0 (the default) opens none.
    /// </summary>
    public int GatewayPort { get; set; }
}

internal sealed class EmbeddedSiloOptionsValidator : IValidateOptions<EmbeddedSiloOptions>
{
    public ValidateOptionsResult Validate(string? name, EmbeddedSiloOptions options)
    {
        var failures = new List<string>();
        if (options.SiloPort is < 0 or > 65535)
        {
            failures.Add($"Embedded:SiloPort must be a TCP port (1-65535), or 0 for a free one, not {options.SiloPort}.");
        }

        if (options.GatewayPort is < 0 or > 65535 || options.GatewayPort != 0 && options.GatewayPort == options.SiloPort)
        {
            failures.Add($"Embedded:GatewayPort must be a TCP port (1-65535) other than Embedded:SiloPort, or 0 for none, not {options.GatewayPort}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
