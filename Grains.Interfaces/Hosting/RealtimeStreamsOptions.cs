using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Realtime.Contracts.Hosting;

/// <summary>
/// Settings of the cluster's Orleans streams (configuration section <c>Streams</c>): server-to-server events, and the
/// client events of the namespaces that ask for them (see <see cref="RealtimeStreams"/>).
/// </summary>
public sealed class RealtimeStreamsOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string SectionName = "Streams";

    /// <summary>
    /// <see cref="StreamProviderKind.Memory"/>: Orleans memory streams. <see cref="StreamProviderKind.External"/>: the
    /// host registers a stream provider named <see cref="RealtimeStreams.ProviderName"/> itself (a persistent one, for
    /// durability), on silos and clients alike.
    /// </summary>
    public StreamProviderKind Provider { get; set; } = StreamProviderKind.Memory;

    /// <summary>
    /// The namespaces (<c>/</c>, <c>/chat</c>, or <c>*</c> for every one) whose client events go to their stream.
    /// Gateways read it; none by default, and a namespace that is not listed costs nothing.
    /// </summary>
    public string[] ClientEventNamespaces { get; set; } = [];

    /// <summary>The <c>Streams</c> section of <paramref name="configuration"/>, validated: hosts need it before their services are built.</summary>
    public static RealtimeStreamsOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<RealtimeStreamsOptions>() ?? new RealtimeStreamsOptions();
        var validation = new RealtimeStreamsOptionsValidator().Validate(null, options);
        return validation.Failed ? throw new OptionsValidationException(SectionName, typeof(RealtimeStreamsOptions), validation.Failures) : options;
    }

    /// <summary>Whether the client events of <paramref name="namespace"/> go to its stream.</summary>
    public bool StreamsClientEventsOf(string @namespace)
    {
        foreach (var listed in ClientEventNamespaces)
        {
            if (listed == "*" || string.Equals(listed, @namespace, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>Where the realtime streams come from.</summary>
public enum StreamProviderKind
{
    /// <summary>Orleans memory streams: nothing outside the cluster, and events in flight are lost with a silo.</summary>
    Memory,
    /// <summary>A provider the host registers itself under <see cref="RealtimeStreams.ProviderName"/>.</summary>
    External,
}

/// <summary>Refuses stream settings that cannot work, at start, with every reason at once.</summary>
public sealed class RealtimeStreamsOptionsValidator : IValidateOptions<RealtimeStreamsOptions>
{
    /// <summary>Checks the options; a failure lists every setting that is wrong.</summary>
    public ValidateOptionsResult Validate(string? name, RealtimeStreamsOptions options)
    {
        var failures = new List<string>();
        if (!Enum.IsDefined(options.Provider))
        {
            failures.Add($"Streams:Provider must be Memory or External, not '{options.Provider}'.");
        }

        foreach (var @namespace in options.ClientEventNamespaces)
        {
            if (@namespace != "*" && @namespace != GrainKeys.DefaultNamespace
                && (@namespace is not ['/', ..] || Names.ValidateNamespace(@namespace[1..]) is not null))
            {
                failures.Add($"Streams:ClientEventNamespaces holds '{@namespace}': each entry is '/', '/name' or '*'.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
