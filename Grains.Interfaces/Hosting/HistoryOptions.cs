using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Realtime.Contracts.Hosting;

/// <summary>
/// Room and namespace history, and resumable sessions (configuration section <c>History</c>, on silos and on
/// embedded gateways). History is soft state: a room that comes back after its silo died has none, and a client that
/// asks it for a replay is told the replay failed.
/// </summary>
public sealed class HistoryOptions
{
    /// <summary>The configuration section these options are read from.</summary>
    public const string SectionName = "History";

    /// <summary>The most recent messages a room or namespace keeps; 0 keeps none.</summary>
    public int MaxMessages { get; set; } = 100;

    /// <summary>How long a message stays in its room's history; zero keeps none.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a disconnected client that asked for a resume token can take its session back; zero turns resuming off.</summary>
    public TimeSpan ResumeWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>True when rooms and namespaces keep any history.</summary>
    public bool Enabled => MaxMessages > 0 && MaxAge > TimeSpan.Zero;

    /// <summary>The options in <paramref name="configuration"/>'s <c>History</c> section, or the defaults.</summary>
    public static HistoryOptions From(IConfiguration configuration) =>
        configuration.GetSection(SectionName).Get<HistoryOptions>() ?? new HistoryOptions();
}

/// <summary>Refuses history settings that cannot work, at start, with every reason at once.</summary>
public sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    /// <summary>Checks the options; a failure lists every setting that is wrong.</summary>
    public ValidateOptionsResult Validate(string? name, HistoryOptions options)
    {
        var failures = new List<string>();
        if (options.MaxMessages is < 0 or > 100_000)
        {
            failures.Add($"History:MaxMessages must be from 0 to 100000, not {options.MaxMessages}.");
        }

        if (options.MaxAge < TimeSpan.Zero || options.ResumeWindow < TimeSpan.Zero)
        {
            failures.Add("History:MaxAge and History:ResumeWindow cannot be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
