using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Http.Api;

/// <summary>Settings of the HTTP API for services (configuration section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>The keys a caller may present in the <c>X-Api-Key</c> header. No keys: the API is not served at all.</summary>
    public string[] Keys { get; set; } = [];

    /// <summary>Where the API is served.</summary>
    public string Path { get; set; } = "/api/v1";
}

internal sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Any(k => string.IsNullOrWhiteSpace(k) || k.Length < 16))
        {
            failures.Add("Api:Keys must each be at least 16 characters long.");
        }

        if (!options.Path.StartsWith('/') || options.Path.EndsWith('/'))
        {
            failures.Add($"Api:Path must start with '/' and not end with one, not '{options.Path}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
