using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Wire;

namespace Realtime.Client.Hosting;

/// <summary>Settings of the cluster client library (configuration section <c>Client</c>).</summary>
public sealed class RealtimeClientOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string SectionName = "Client";

    /// <summary>The hub whose connections the emitter and the operations address.</summary>
    public string Hub { get; set; } = "RealtimeHub";

    /// <summary>What messages from this service carry as their sender (<see cref="RealtimeEvent.From"/>).</summary>
    public string ServiceName { get; set; } = "service";

    /// <summary>The largest message, serialized, this service may send; larger ones throw <see cref="MessageTooLargeException"/>.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Whether an emit to a namespace, room or user completes only once every gateway with members has it (the
    /// group's <see cref="IMemberGroupGrain.PublishConfirmed"/>), so that an emit told of success cannot die with the
    /// group's node. Silos of a version before 4 do not have that call: during a rolling upgrade from one, upgrade the
    /// silos and gateways first, or turn this off until they are. Off: an emit completes once the group has sent it.
    /// </summary>
    public bool ConfirmedEmits { get; set; } = true;

    /// <summary>
    /// How often a kept stream subscription (<see cref="Streams.IKeptSubscriptions"/>: a gateway's server events, a
    /// service's stream consumers) checks that the cluster's pub-sub still holds it, and subscribes again if not.
    /// </summary>
    public TimeSpan SubscriptionCheckPeriod { get; set; } = TimeSpan.FromSeconds(5);
}

internal sealed class RealtimeClientOptionsValidator : IValidateOptions<RealtimeClientOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeClientOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrEmpty(options.Hub) || options.Hub.Contains('/'))
        {
            failures.Add($"Client:Hub must be a hub name without '/', not '{options.Hub}'.");
        }

        if (Names.ValidateEvent(options.ServiceName) is { } error)
        {
            failures.Add($"Client:ServiceName is invalid ('{options.ServiceName}'): {error}");
        }

        if (options.MaxMessageBytes < 1024)
        {
            failures.Add($"Client:MaxMessageBytes must be at least 1024, not {options.MaxMessageBytes}.");
        }

        if (options.SubscriptionCheckPeriod < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"Client:SubscriptionCheckPeriod must be at least 100 ms, not {options.SubscriptionCheckPeriod}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
