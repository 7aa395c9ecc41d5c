using System.Security.Cryptography;
using System.Text;

namespace Realtime.Gateway.Http;

/// <summary>
/// Secret keys (API keys, admin keys), compared in constant time, all of them every time: hashing first makes every
/// comparison the same length, and no early exit tells which key came close.
/// </summary>
internal sealed class KeySet(IEnumerable<string> keys)
{
    private readonly byte[][] _hashes = [.. keys.Select(static k => SHA256.HashData(Encoding.UTF8.GetBytes(k)))];

    public bool Contains(string given)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        var match = false;
        foreach (var key in _hashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return match;
    }
}

/// <summary>
/// The token a request carries: the <c>access_token</c> query parameter (browsers cannot set headers on WebSockets,
/// SSE or socket.io handshakes), else the <c>Authorization: Bearer</c> header; empty when it has none.
/// </summary>
internal static class RequestToken
{
    public static string From(HttpRequest request)
    {
        var token = request.Query["access_token"].ToString();
        if (token.Length == 0 && request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }

        return token;
    }

    /// <summary>
    /// Whether the request carries anything an authentication scheme could read: a token (<c>access_token</c>, an
    /// <c>Authorization</c> header) or cookies. One that carries none is anonymous whatever the schemes.
    /// </summary>
    public static bool HasCredentials(HttpContext context)
    {
        var request = context.Request;
        return request.Headers.Authorization.Count > 0 || request.Headers.Cookie.Count > 0 || request.Query.ContainsKey("access_token");
    }
}
