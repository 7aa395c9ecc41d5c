using Microsoft.Extensions.Options;

namespace Realtime.Silo.Hosting;

/// <summary>Settings of the silo host itself (configuration section <c>Silo</c>).</summary>
public sealed class SiloOptions
{
    public const string SectionName = "Silo";

    /// <summary>The HTTP port of the health endpoints (<c>/healthz</c>, <c>/healthz/ready</c>) and <c>/stats</c>.</summary>
    public int HttpPort { get; set; } = 8080;
}

internal sealed class SiloOptionsValidator : IValidateOptions<SiloOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloOptions options) =>
        options.HttpPort is >= 1 and <= 65535
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Silo:HttpPort must be a TCP port (1-65535), not {options.HttpPort}.");
}
