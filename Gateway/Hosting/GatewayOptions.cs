using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Hosting;

/// <summary>Settings of a gateway (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>This gateway's id in room and namespace member lists; defaults to the runtime's node name.</summary>
    public string? GatewayId { get; set; }

    /// <summary>Path of the ready-made <see cref="Hubs.RealtimeHub"/>; a namespace is one more segment (<c>/realtime/chat</c>).</summary>
    public string HubPath { get; set; } = "/realtime";

    /// <summary>The largest message, serialized, that a client or a service may send; larger ones get an error.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The largest frame the gateway reads from a client at all (SignalR's MaximumReceiveMessageSize). A frame above
    /// <see cref="MaxMessageBytes"/> and up to this size is answered with an error; above it the connection is closed,
    /// because it cannot be read without buffering it.
    /// </summary>
    public int MaxFrameBytes { get; set; } = 1024 * 1024;

    /// <summary>Serve the demo page at <c>/</c>.</summary>
    public bool DemoPage { get; set; } = true;
}

internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        if (options.GatewayId is { } id && (id.Length == 0 || id.Contains('/')))
        {
            failures.Add($"Gateway:GatewayId must be a non-empty name without '/', not '{id}'.");
        }

        if (!options.HubPath.StartsWith('/') || options.HubPath.EndsWith('/'))
        {
            failures.Add($"Gateway:HubPath must start with '/' and not end with one, not '{options.HubPath}'.");
        }

        if (options.MaxMessageBytes < 1024)
        {
            failures.Add($"Gateway:MaxMessageBytes must be at least 1024, not {options.MaxMessageBytes}.");
        }

        if (options.MaxFrameBytes < options.MaxMessageBytes)
        {
            failures.Add($"Gateway:MaxFrameBytes ({options.MaxFrameBytes}) must be at least Gateway:MaxMessageBytes ({options.MaxMessageBytes}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
