using Microsoft.Extensions.Options;
using Realtime.Contracts;
using Realtime.Wire;

namespace Realtime.Gateway.Http.Api;

/// <summary>Refuses callers without a configured key (401). Keys are compared in constant time, all of them every time.</summary>
internal sealed class ApiKeyFilter(IOptions<ApiOptions> options) : IEndpointFilter
{
    public const string Header = "X-Api-Key";

    private readonly KeySet _keys = new(options.Value.Keys);

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var given = context.HttpContext.Request.Headers[Header].ToString();
        if (given.Length == 0)
        {
            return ValueTask.FromResult<object?>(ApiProblem.Create(StatusCodes.Status401Unauthorized, $"The {Header} header is missing."));
        }

        return _keys.Contains(given)
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
