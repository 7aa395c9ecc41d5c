using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Http.Admin;

/// <summary>
/// The live admin view at <see cref="Path"/> (configuration section <c>Admin</c>). It is on when an operator can be
/// let in: with <see cref="Keys"/> (an API key typed into the page) or <see cref="Role"/> (a JWT with that role).
/// </summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>Keys that open the admin view (at least 16 characters each).</summary>
    public string[] Keys { get; set; } = [];

    /// <summary>A role (the token's <c>role</c> claim) that opens the admin view, for tokens the gateway accepts (<c>Auth</c>).</summary>
    public string? Role { get; set; }

    /// <summary>Where the page is served; its hub is one segment below (<c>{Path}/hub</c>).</summary>
    public string Path { get; set; } = "/admin";

    /// <summary>How often open admin pages get fresh numbers.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Over how long the page's messages per second are averaged: a room that got 25 messages 3 s ago still shows them,
    /// where the rate between two snapshots alone would read 0.
    /// </summary>
    public TimeSpan RateWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most rooms each gateway reports (its largest).</summary>
    public int MaxRooms { get; set; } = 200;

    public bool Enabled => Keys.Length > 0 || !string.IsNullOrEmpty(Role);
}

internal sealed class AdminOptionsValidator : IValidateOptions<AdminOptions>
{
    public ValidateOptionsResult Validate(string? name, AdminOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Any(k => k.Length < 16))
        {
            failures.Add("Admin:Keys must be at least 16 characters each.");
        }

        if (!options.Path.StartsWith('/') || options.Path.Length < 2 || options.Path.EndsWith('/'))
        {
            failures.Add($"Admin:Path must start with '/', name a path, and not end with '/', not '{options.Path}'.");
        }

        if (options.RefreshInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"Admin:RefreshInterval must be at least 100 ms, not {options.RefreshInterval}.");
        }

        if (options.RateWindow < options.RefreshInterval || options.RateWindow > TimeSpan.FromMinutes(10))
        {
            failures.Add($"Admin:RateWindow must be from Admin:RefreshInterval to 10 minutes, not {options.RateWindow}.");
        }

        if (options.MaxRooms is < 1 or > 10_000)
        {
            failures.Add($"Admin:MaxRooms must be from 1 to 10000, not {options.MaxRooms}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
