using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Realtime.Client.Emitting;
using Realtime.Client;

namespace Realtime.Gateway.Api;

/// <summary>Refuses callers without a configured key (401). Keys are compared in constant time, all of them every time.</summary>
internal sealed class ApiKeyFilter : IEndpointFilter
{
    public const string Header = "X-Api-Key";

    private readonly byte[][] _keyHashes;

    public ApiKeyFilter(IOptions<ApiOptions> options) =>
        _keyHashes = options.Value.Keys.Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var given = context.HttpContext.Request.Headers[Header].ToString();
        if (given.Length == 0)
        {
            return ValueTask.FromResult<object?>(ApiProblem.Create(StatusCodes.Status401Unauthorized, $"The {Header} header is missing."));
        }

        // Hashing first makes every comparison the same length; no early exit tells which key came close.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        var match = false;
        foreach (var key in _keyHashes)
        {
            match |= CryptographicOperations.FixedTimeEquals(hash, key);
        }

        return match
            ? next(context)
            : ValueTask.FromResult<object?>(ApiProblem.Create(StatusCodes.Status401Unauthorized, $"The {Header} header does not hold a valid key."));
    }
}

/// <summary>Turns failures into answers: bad input is a 4xx that says what is wrong, a cluster that could not act a 503.</summary>
internal sealed class ApiErrorFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (ApiException ex)
        {
            return ApiProblem.Create(ex.Status, ex.Message);
        }
        catch (ArgumentException ex)
        {
            return ApiProblem.Create(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (MessageTooLargeException ex)
        {
            return ApiProblem.Create(StatusCodes.Status413PayloadTooLarge, ex.Message);
        }
        catch (Exception ex) when (ClusterFailure.Is(ex))
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, $"The cluster could not complete the request right now; try again. ({ex.Message})");
        }
    }
}

/// <summary>An answer other than success, with the status it maps to.</summary>
internal sealed class ApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

internal static class ApiProblem
{
    public static IResult Create(int status, string detail) => Results.Problem(detail: detail, statusCode: status);
}
