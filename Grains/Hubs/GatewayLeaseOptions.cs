using Microsoft.Extensions.Options;

namespace Realtime.Grains.Hubs;

/// <summary>
/// How long a gateway's lease lasts (configuration section <c>Cluster:GatewayLease</c>). Orleans clients, which
/// gateways are, do not appear in the cluster's membership table, so a gateway holds a lease in its hub's registry and
/// renews it; when it stops renewing (it died, or lost every silo), its connections leave every room, namespace,
/// user and presence list within <see cref="Timeout"/> plus <see cref="CheckPeriod"/> plus <see cref="ProbeTimeout"/>.
/// </summary>
public sealed class GatewayLeaseOptions
{
    public const string SectionName = "Cluster:GatewayLease";

    /// <summary>How often a gateway renews its lease.</summary>
    public TimeSpan RenewPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a lease lasts after its last renewal.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the registry looks for lapsed leases, and each silo for departed gateways.</summary>
    public TimeSpan CheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the registry waits for a gateway whose lease lapsed to answer that it still serves the hub (its
    /// renewals may have been held up on their way) before it drops the gateway's members.
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a grain that comes back (its silo died) waits for a gateway to list its members before the call that
    /// activated it fails with an error, rather than deliver without that gateway's members. Keep it below
    /// <c>Cluster:ResponseTimeout</c>, which the call that activated the grain waits for.
    /// </summary>
    public TimeSpan RebuildTimeout { get; set; } = TimeSpan.FromSeconds(3);
}

internal sealed class GatewayLeaseOptionsValidator : IValidateOptions<GatewayLeaseOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayLeaseOptions options)
    {
        var failures = new List<string>();
        foreach (var (setting, value) in new[]
        {
            (nameof(options.RenewPeriod), options.RenewPeriod), (nameof(options.Timeout), options.Timeout),
            (nameof(options.CheckPeriod), options.CheckPeriod), (nameof(options.RebuildTimeout), options.RebuildTimeout),
            (nameof(options.ProbeTimeout), options.ProbeTimeout),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{GatewayLeaseOptions.SectionName}:{setting} must be greater than zero, not {value}.");
            }
        }

        if (options.Timeout < options.RenewPeriod * 2)
        {
            failures.Add($"{GatewayLeaseOptions.SectionName}:Timeout ({options.Timeout}) must be at least twice {GatewayLeaseOptions.SectionName}:RenewPeriod ({options.RenewPeriod}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
