using System.Text;

namespace Realtime.Gateway.SocketIO.Engine;

/// <summary>The errors Engine.IO answers a bad request with, by their code.</summary>
internal enum EngineError
{
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

internal static class EngineHttp
{
    public static string Message(EngineError error) => error switch
    {
        EngineError.UnknownTransport => "Transport unknown",
        EngineError.UnknownSid => "Session ID unknown",
        EngineError.BadHandshakeMethod => "Bad handshake method",
        EngineError.BadRequest => "Bad request",
        EngineError.Forbidden => "Forbidden",
        _ => "Unsupported protocol version",
    };

    /// <summary>Answers with the error as Engine.IO does: status 400 (403 for Forbidden) and <c>{"code":n,"message":"..."}</c>.</summary>
    public static Task WriteErrorAsync(HttpContext context, EngineError error)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = error == EngineError.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync($"{{\"code\":{(int)error},\"message\":\"{Message(error)}\"}}");
    }

    /// <summary>The request body as text, or null when it is longer than <paramref name="limit"/> bytes.</summary>
    public static async Task<string?> ReadBodyAsync(HttpContext context, int limit)
    {
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>
    /// Adds the CORS headers when the request's origin is allowed; answers a preflight. True when the request was a
    /// preflight and is answered.
    /// </summary>
    public static bool ApplyCors(HttpContext context, string[] origins)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && (origins.Contains("*") || origins.Contains(origin, StringComparer.OrdinalIgnoreCase)))
        {
            var headers = context.Response.Headers;
            headers.AccessControlAllowOrigin = origin;
            headers.AccessControlAllowCredentials = "true";
            headers.Vary = "Origin";
            if (HttpMethods.IsOptions(context.Request.Method))
            {
                headers.AccessControlAllowMethods = "GET, POST, OPTIONS";
                if (context.Request.Headers.AccessControlRequestHeaders.Count > 0)
                {
                    headers.AccessControlAllowHeaders = context.Request.Headers.AccessControlRequestHeaders;
                }

                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return true;
            }
        }

        return false;
    }
}
