using Microsoft.Extensions.Options;

namespace Realtime.Runtime.Hosting;

/// <summary>Settings of the grain runtime (configuration section <c>Runtime</c>).</summary>
public sealed class GrainRuntimeOptions
{
    public const string SectionName = "Runtime";

    /// <summary>Name of this node in logs and in observer ids; defaults to the host name and a random suffix.</summary>
    public string NodeName { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>How long a caller waits for a response before the call fails with a <see cref="TimeoutException"/>.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an activation may stay unused before it is collected.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often idle activations are looked for.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long <c>OnActivateAsync</c> may take before its cancellation token fires.</summary>
    public TimeSpan ActivationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <c>OnDeactivateAsync</c>, and the deactivation of everything at shutdown, may take.</summary>
    public TimeSpan DeactivationTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

internal sealed class GrainRuntimeOptionsValidator : IValidateOptions<GrainRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, GrainRuntimeOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.NodeName) || options.NodeName.IndexOfAny(['/', ':', '@']) >= 0)
        {
            failures.Add($"Runtime:NodeName must be a non-empty name without '/', ':' or '@', not '{options.NodeName}'.");
        }

        Positive(failures, "Runtime:ResponseTimeout", options.ResponseTimeout);
        Positive(failures, "Runtime:CollectionAge", options.CollectionAge);
        Positive(failures, "Runtime:CollectionQuantum", options.CollectionQuantum);
        Positive(failures, "Runtime:ActivationTimeout", options.ActivationTimeout);
        Positive(failures, "Runtime:DeactivationTimeout", options.DeactivationTimeout);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"{setting} must be greater than zero, not {value}.");
        }
    }
}
