using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Authentication;

/// <summary>
/// Settings of browser-client authentication (configuration section <c>Auth</c>). A JWT signed with the HMAC key,
/// the RSA key, or a key of the OpenID Connect provider at <see cref="Authority"/> becomes the connection's user (its
/// <c>sub</c> claim). Tokens are checked by ASP.NET Core's JWT bearer handler.
/// </summary>
public sealed class JwtOptions
{
    public const string SectionName = "Auth";

    /// <summary>The HMAC-SHA256 secret tokens are signed with (at least 32 bytes of UTF-8).</summary>
    public string? HmacKey { get; set; }

    /// <summary>The RSA public key, PEM, tokens are signed with (RS256).</summary>
    public string? RsaPublicKeyPem { get; set; }

    /// <summary>
    /// An OpenID Connect identity provider (its issuer URL). Its signing keys are read from the JWKS its discovery
    /// document names, and read again when a token names a key not seen yet (key rotation).
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>The discovery document's URL, when it is not <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public string? MetadataAddress { get; set; }

    /// <summary>Whether the discovery document and JWKS must be fetched over HTTPS. Turn off only for a provider on loopback.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>The shortest time between two reads of the provider's keys forced by a token with an unknown key.</summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often the provider's keys are read again in any case.</summary>
    public TimeSpan AutomaticRefreshInterval { get; set; } = TimeSpan.FromHours(12);

    /// <summary>When set, a token's <c>iss</c> must be this.</summary>
    public string? Issuer { get; set; }

    /// <summary>When set, a token's <c>aud</c> must be this.</summary>
    public string? Audience { get; set; }

    /// <summary>Namespaces (<c>/</c>, <c>/name</c>, or <c>*</c> for all) where a connection without a valid token is refused.</summary>
    public string[] RequiredNamespaces { get; set; } = [];

    /// <summary>How much clock difference is tolerated on a token's expiry and not-before times.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public bool HasKey => !string.IsNullOrEmpty(HmacKey) || !string.IsNullOrEmpty(RsaPublicKeyPem) || !string.IsNullOrEmpty(Authority);

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
            failures.Add("Auth:RequiredNamespaces needs a key to check tokens with: set Auth:HmacKey, Auth:RsaPublicKeyPem or Auth:Authority.");
        }

        if (options.Authority is { Length: > 0 } authority && !Uri.TryCreate(authority, UriKind.Absolute, out _))
        {
            failures.Add($"Auth:Authority must be an absolute URL, not '{authority}'.");
        }

        if (options.MetadataAddress is { Length: > 0 } metadata && !Uri.TryCreate(metadata, UriKind.Absolute, out _))
        {
            failures.Add($"Auth:MetadataAddress must be an absolute URL, not '{metadata}'.");
        }

        if (options.KeyRefreshInterval < TimeSpan.FromSeconds(1) || options.AutomaticRefreshInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add("Auth:KeyRefreshInterval and Auth:AutomaticRefreshInterval must be at least one second.");
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
