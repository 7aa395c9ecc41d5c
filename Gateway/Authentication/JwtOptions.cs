using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Authentication;

/// <summary>
/// Settings of browser-client authentication (configuration section <c>Auth</c>). A JWT signed with the HMAC key or
/// the RSA key below becomes the connection's user (its <c>sub</c> claim).
/// </summary>
public sealed class JwtOptions
{
    public const string SectionName = "Auth";

    /// <summary>The HMAC-SHA256 secret tokens are signed with (at least 32 bytes of UTF-8).</summary>
    public string? HmacKey { get; set; }

    /// <summary>The RSA public key, PEM, tokens are signed with (RS256).</summary>
    public string? RsaPublicKeyPem { get; set; }

    /// <summary>When set, a token's <c>iss</c> must be this.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, a token's <c>aud</c> must be this.</summary>
    public string? Audience { get; set; }

    /// <summary>Namespaces (<c>/</c>, <c>/name</c>, or <c>*</c> for all) where a connection without a valid token is refused.</summary>
    public string[] RequiredNamespaces { get; set; } = [];

    /// <summary>How much clock difference is tolerated on a token's expiry and not-before times.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public bool HasKey => !string.IsNullOrEmpty(HmacKey) || !string.IsNullOrEmpty(RsaPublicKeyPem);

    public bool Requires(string @namespace) => RequiredNamespaces.Contains("*") || RequiredNamespaces.Contains(@namespace);
}

internal sealed class JwtOptionsValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        var failures = new List<string>();
        if (options.HmacKey is { Length: > 0 } hmac && Encoding.UTF8.GetByteCount(hmac) < 32)
        {
            failures.Add($"Auth:HmacKey must be at least 32 bytes long, not {Encoding.UTF8.GetByteCount(hmac)}.");
        }

        if (options.RsaPublicKeyPem is { Length: > 0 } pem)
        {
            try
            {
                using var rsa = RSA.Create();
                rsa.ImportFromPem(pem);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"Auth:RsaPublicKeyPem is not a PEM RSA public key: {ex.Message}");
            }
        }

        if (options.RequiredNamespaces.Length > 0 && !options.HasKey)
        {
            failures.Add("Auth:RequiredNamespaces needs a key to check tokens with: set Auth:HmacKey or Auth:RsaPublicKeyPem.");
        }

        foreach (var ns in options.RequiredNamespaces)
        {
            if (ns != "*" && ns is not ['/', ..])
            {
                failures.Add($"Auth:RequiredNamespaces holds '{ns}': a namespace is written '/' or '/name', or '*' for all.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
