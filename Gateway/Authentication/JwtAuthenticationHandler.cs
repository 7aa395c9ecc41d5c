using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Realtime.Gateway.Authentication;

/// <summary>
/// Reads a JWT from the <c>access_token</c> query parameter (browsers cannot set headers on WebSockets) or the
/// <c>Authorization: Bearer</c> header and validates it. No token: anonymous. A bad token fails, and the reason is
/// kept in the request's items, so the gateway can refuse the connection saying why.
/// </summary>
internal sealed class JwtAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptions<JwtOptions> jwt,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "RealtimeJwt";

    /// <summary>Where the reason a token was refused is kept, in <c>HttpContext.Items</c>.</summary>
    public const string FailureItem = "Realtime.AuthFailure";

    private readonly JwtOptions _options = jwt.Value;
    private TokenValidationParameters? _parameters;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = Request.Query["access_token"].ToString();
        if (token.Length == 0 && Request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }

        if (token.Length == 0 || !_options.HasKey)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        try
        {
            var principal = new JwtSecurityTokenHandler().ValidateToken(token, _parameters ??= Parameters(), out _);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }
        catch (Exception ex) when (ex is SecurityTokenException or ArgumentException)
        {
            var reason = Describe(ex);
            Context.Items[FailureItem] = reason;
            return Task.FromResult(AuthenticateResult.Fail(reason));
        }
    }

    private TokenValidationParameters Parameters()
    {
        var keys = new List<SecurityKey>();
        if (!string.IsNullOrEmpty(_options.HmacKey))
        {
            keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(_options.HmacKey)));
        }

        if (!string.IsNullOrEmpty(_options.RsaPublicKeyPem))
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(_options.RsaPublicKeyPem);
            keys.Add(new RsaSecurityKey(rsa));
        }

        return new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = _options.ClockSkew,
            ValidateIssuer = _options.Issuer is not null,
            ValidIssuer = _options.Issuer,
            ValidateAudience = _options.Audience is not null,
            ValidAudience = _options.Audience,
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
