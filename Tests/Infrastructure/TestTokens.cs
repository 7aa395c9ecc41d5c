using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Realtime.Tests.Infrastructure;

/// <summary>JWTs for tests, signed with <see cref="HmacKey"/> unless told otherwise.</summary>
public static class TestTokens
{
    public const string HmacKey = "a-test-hmac-secret-of-at-least-32-bytes!";

    public static string Create(string subject, SigningCredentials? credentials = null, DateTime? expires = null, string? issuer = null, IEnumerable<Claim>? claims = null)
    {
        var expiry = expires ?? DateTime.UtcNow.AddMinutes(10);
        return new JwtSecurityTokenHandler().CreateEncodedJwt(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", subject), .. claims ?? []]),
            NotBefore = expiry.AddMinutes(-20),
            IssuedAt = expiry.AddMinutes(-20),
            Expires = expiry,
            Issuer = issuer,
            SigningCredentials = credentials ?? new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(HmacKey)), SecurityAlgorithms.HmacSha256),
        });
    }
}
