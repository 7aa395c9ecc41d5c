using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Realtime.Gateway.Http;

namespace Realtime.Gateway.Authentication;

/// <summary>
/// Configures ASP.NET Core's JWT bearer handler from the <c>Auth</c> section. The token is read from the
/// <c>access_token</c> query parameter (browsers cannot set headers on WebSockets, SSE or socket.io handshakes) or
/// the <c>Authorization: Bearer</c> header. No token, or no key configured: anonymous. A bad token fails, and the
/// reason is kept in the request's items, so the gateway can refuse the connection saying why.
/// </summary>
internal sealed class JwtBearerSetup(IOptions<JwtOptions> jwt) : IConfigureNamedOptions<JwtBearerOptions>, IPostConfigureOptions<JwtBearerOptions>
{
    public const string SchemeName = JwtBearerDefaults.AuthenticationScheme;

    /// <summary>Where the reason a token was refused is kept, in <c>HttpContext.Items</c>.</summary>
    public const string FailureItem = "Realtime.AuthFailure";

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != SchemeName)
        {
            return;
        }

        var settings = jwt.Value;
        options.MapInboundClaims = true; // sub becomes ClaimTypes.NameIdentifier, the connection's user
        options.TokenValidationParameters = Parameters(settings);
        if (!string.IsNullOrEmpty(settings.Authority))
        {
            options.Authority = settings.Authority;
            options.MetadataAddress = settings.MetadataAddress ?? "";
            options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
            options.RefreshInterval = settings.KeyRefreshInterval;
            options.AutomaticRefreshInterval = settings.AutomaticRefreshInterval;
        }

        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = context =>
            {
                var token = RequestToken.From(context.Request);

                if (token.Length == 0 || !settings.HasKey)
                {
                    context.NoResult();
                }
                else
                {
                    context.Token = token;
                }

                return Task.CompletedTask;
            },
            OnAuthenticationFailed = context =>
            {
                context.HttpContext.Items[FailureItem] = Describe(context.Exception);
                return Task.CompletedTask;
            },
        };
    }

    /// <summary>
    /// Runs after the handler made its configuration manager: a key the provider took out of its JWKS is refused
    /// from the next read of it on, instead of being tried again from an earlier ("last known good") JWKS for an hour.
    /// </summary>
    public void PostConfigure(string? name, JwtBearerOptions options)
    {
        if (name == SchemeName && options.ConfigurationManager is BaseConfigurationManager manager)
        {
            manager.UseLastKnownGoodConfiguration = false;
        }
    }

    private static TokenValidationParameters Parameters(JwtOptions options)
    {
        var keys = new List<SecurityKey>();
        if (!string.IsNullOrEmpty(options.HmacKey))
        {
            keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.HmacKey)));
        }

        if (!string.IsNullOrEmpty(options.RsaPublicKeyPem))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(options.RsaPublicKeyPem);
            keys.Add(new RsaSecurityKey(rsa));
        }

        return new TokenValidationParameters
        {
            // Keys from the identity provider's JWKS (Auth:Authority) are added to these by the handler.
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.ClockSkew,
            // With an Authority, the handler adds the issuer its discovery document names.
            ValidateIssuer = options.Issuer is not null || !string.IsNullOrEmpty(options.Authority),
            ValidIssuer = options.Issuer,
            ValidateAudience = options.Audience is not null,
            ValidAudience = options.Audience,
            NameClaimType = ClaimTypes.NameIdentifier,
        };
    }

    private static string Describe(Exception ex) => ex switch
    {
        SecurityTokenExpiredException expired => $"the token expired at {expired.Expires:u}.",
        SecurityTokenNotYetValidException => "the token is not valid yet.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token's signature does not match the configured key.",
        SecurityTokenInvalidIssuerException => "the token's issuer is not the configured one.",
        SecurityTokenInvalidAudienceException => "the token's audience is not the configured one.",
        SecurityTokenNoExpirationException => "the token has no expiry time.",
        _ => "the token is malformed.",
    };
}
