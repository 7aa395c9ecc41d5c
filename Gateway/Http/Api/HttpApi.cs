using System.Text.Json;
using Microsoft.Extensions.Options;
using Realtime.Client.Emitting;
using Realtime.Client.Operations;
using Realtime.Contracts;

namespace Realtime.Gateway.Http.Api;

/// <summary>
/// The HTTP API for services in any language: send events, read presence, make connections join or leave rooms,
/// disconnect them. It does what the cluster client library does, over HTTP, and is described at
/// <c>/openapi/v1.json</c>.
/// </summary>
public static class HttpApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the API when <c>Api:Keys</c> holds keys; without keys nothing is served.</summary>
    public static IEndpointRouteBuilder MapRealtimeHttpApi(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<ApiOptions>>().Value;
        if (options.Keys.Length == 0)
        {
            return endpoints;
        }

        var api = endpoints.MapGroup(options.Path)
            .AddEndpointFilter<ApiKeyFilter>()
            .AddEndpointFilter<ApiErrorFilter>()
            .WithTags("Realtime");

        api.MapPost("/events", SendEventAsync)
            .WithSummary("Sends an event to a namespace, one room, several rooms, a connection or a user.")
            .Accepts<EventRequest>("application/json")
            .Produces(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapGet("/presence", PresenceAsync)
            .WithSummary("The connections of a namespace, or of one of its rooms, on every gateway.");
        api.MapGet("/presence/count", CountAsync)
            .WithSummary("How many connections a namespace, or one of its rooms, has.");
        api.MapPut("/connections/{connectionId}/rooms/{room}", JoinAsync)
            .WithSummary("Makes a connection join a room of its namespace.");
        api.MapDelete("/connections/{connectionId}/rooms/{room}", LeaveAsync)
            .WithSummary("Makes a connection leave a room of its namespace.");
        api.MapPost("/connections/{connectionId}/invoke", InvokeClientAsync)
            .WithSummary("Calls a method on a connection's client and returns its answer (SignalR client results).")
            .Accepts<InvokeRequest>("application/json");
        api.MapPost("/server-events", ServerEmitAsync)
            .WithSummary("Sends a server-to-server event to every gateway.")
            .Accepts<ServerEventRequest>("application/json");
        api.MapDelete("/connections/{connectionId}", DisconnectAsync)
            .WithSummary("Closes a connection.");
        api.MapDelete("/users/{userId}/connections", DisconnectUserAsync)
            .WithSummary("Closes every connection of a user.");
        api.MapDelete("/rooms/{room}/connections", DisconnectRoomAsync)
            .WithSummary("Closes every connection in a room.");
        return endpoints;
    }

    private static async Task<IResult> SendEventAsync(HttpRequest request, IRealtimeEmitter emitter, IOptions<GatewayOptions> gateway, CancellationToken cancellationToken)
    {
        var message = await ReadJsonAsync<EventRequest>(request, gateway.Value.MaxMessageBytes * 2, cancellationToken);
        if (string.IsNullOrEmpty(message.Event))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The body needs an \"event\" name.");
        }

        var @namespace = message.Namespace ?? GrainKeys.DefaultNamespace;
        var except = message.Except ?? [];
        var targets = new[] { message.Room is not null, message.Rooms is not null, message.ConnectionId is not null, message.UserId is not null }.Count(t => t);
        if (targets > 1)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "Give at most one of \"room\", \"rooms\", \"connectionId\" and \"userId\" (none: the whole namespace).");
        }

        if (message.ConnectionId is { } connection)
        {
            // An id that no connection has is a mistake worth hearing of, as the other connection endpoints say.
            return await emitter.TryEmitToConnectionAsync(connection, message.Event, message.Data, cancellationToken)
                ? Results.Accepted()
                : NotOpen(connection);
        }

        var target = message switch
        {
            { Room: { } room } => emitter.RoomExcept(@namespace, room, except),
            { Rooms: { } rooms } when except.Length == 0 => emitter.Rooms(@namespace, rooms),
            { Rooms: not null } => throw new ApiException(StatusCodes.Status400BadRequest, "\"except\" cannot be combined with \"rooms\"."),
            { UserId: { } userId } => emitter.User(userId),
            _ => emitter.AllExcept(@namespace, except),
        };
        await target.EmitAsync(message.Event, message.Data, cancellationToken);
        return Results.Accepted();
    }

    private static async Task<IResult> InvokeClientAsync(HttpRequest request, string connectionId, IRealtimeCluster cluster, IOptions<GatewayOptions> gateway, CancellationToken cancellationToken)
    {
        var body = await ReadJsonAsync<InvokeRequest>(request, gateway.Value.MaxMessageBytes * 2, cancellationToken);
        if (string.IsNullOrEmpty(body.Method))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The body needs a \"method\" name.");
        }

        var max = IRealtimeCluster.MaxClientResultTimeout.TotalSeconds;
        if (body.TimeoutSeconds is { } seconds && !(seconds > 0 && seconds <= max))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"\"timeoutSeconds\" must be greater than 0 and at most {max}, not {seconds}.");
        }

        var timeout = TimeSpan.FromSeconds(body.TimeoutSeconds ?? 10);
        try
        {
            var answer = await cluster.InvokeClientAsync(connectionId, body.Method, [.. (body.Args ?? []).Select(a => (object?)a)], timeout, cancellationToken);
            return Results.Ok(new { result = answer });
        }
        catch (InvalidOperationException ex)
        {
            throw new ApiException(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (Microsoft.AspNetCore.SignalR.HubException ex)
        {
            throw new ApiException(StatusCodes.Status502BadGateway, $"The client answered with an error: {ex.Message}");
        }
        catch (TimeoutException ex) when (ex.Message.Contains("did not answer", StringComparison.Ordinal))
        {
            throw new ApiException(StatusCodes.Status504GatewayTimeout, ex.Message);
        }
    }

    private static async Task<IResult> ServerEmitAsync(HttpRequest request, IRealtimeCluster cluster, IOptions<GatewayOptions> gateway, CancellationToken cancellationToken)
    {
        var body = await ReadJsonAsync<ServerEventRequest>(request, gateway.Value.MaxMessageBytes * 2, cancellationToken);
        if (string.IsNullOrEmpty(body.Event))
        {
            throw new ApiException(StatusCodes.Status400BadRequest, "The body needs an \"event\" name.");
        }

        // The caller is a service outside the cluster, so every gateway hears it, this one included.
        return Results.Ok(new { gateways = await cluster.ServerEmitAsync(body.Event, body.Data, includeSelf: true, cancellationToken) });
    }

    private static async Task<T> ReadJsonAsync<T>(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, limit, cancellationToken);
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) ?? throw new ApiException(StatusCodes.Status400BadRequest, "The body is empty.");
        }
        catch (JsonException ex)
        {
            throw new ApiException(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {ex.Message}");
        }
    }

    private static async Task<IResult> PresenceAsync(IRealtimeCluster cluster, string? @namespace, string? room, bool? data, CancellationToken cancellationToken)
    {
        var ns = @namespace ?? GrainKeys.DefaultNamespace;
        var entries = room is null
            ? await cluster.NamespacePresenceAsync(ns, data ?? false, cancellationToken)
            : await cluster.RoomPresenceAsync(ns, room, data ?? false, cancellationToken);
        return Results.Ok(entries);
    }

    private static async Task<IResult> CountAsync(IRealtimeCluster cluster, string? @namespace, string? room, CancellationToken cancellationToken) =>
        Results.Ok(new { count = await cluster.CountAsync(@namespace ?? GrainKeys.DefaultNamespace, room, cancellationToken) });

    private static async Task<IResult> JoinAsync(IRealtimeCluster cluster, string connectionId, string room, CancellationToken cancellationToken) =>
        Found(await cluster.JoinAsync(connectionId, room, cancellationToken), connectionId);

    private static async Task<IResult> LeaveAsync(IRealtimeCluster cluster, string connectionId, string room, CancellationToken cancellationToken) =>
        Found(await cluster.LeaveAsync(connectionId, room, cancellationToken), connectionId);

    private static async Task<IResult> DisconnectAsync(IRealtimeCluster cluster, string connectionId, CancellationToken cancellationToken) =>
        Found(await cluster.DisconnectAsync(connectionId, cancellationToken), connectionId);

    private static async Task<IResult> DisconnectUserAsync(IRealtimeCluster cluster, string userId, CancellationToken cancellationToken) =>
        Results.Ok(new { disconnected = await cluster.DisconnectUserAsync(userId, cancellationToken) });

    private static async Task<IResult> DisconnectRoomAsync(IRealtimeCluster cluster, string room, string? @namespace, CancellationToken cancellationToken) =>
        Results.Ok(new { disconnected = await cluster.DisconnectRoomAsync(@namespace ?? GrainKeys.DefaultNamespace, room, cancellationToken) });

    private static IResult Found(bool found, string connectionId) => found ? Results.NoContent() : NotOpen(connectionId);

    private static IResult NotOpen(string connectionId) => ApiProblem.Create(StatusCodes.Status404NotFound, $"No connection '{connectionId}' is open.");

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"The body is {request.ContentLength} bytes; at most {limit} are read.");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ApiException(StatusCodes.Status413PayloadTooLarge, $"The body is larger than the {limit} bytes that are read.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>The body of <c>POST /connections/{connectionId}/invoke</c>.</summary>
    /// <param name="Method">The client method to call.</param>
    /// <param name="Args">Its arguments.</param>
    /// <param name="TimeoutSeconds">How long to wait for the answer, in seconds: default 10, more than 0 and at most 300 (<see cref="IRealtimeCluster.MaxClientResultTimeout"/>).</param>
    public sealed record InvokeRequest(string Method, JsonElement[]? Args, double? TimeoutSeconds);

    /// <summary>The body of <c>POST /server-events</c>.</summary>
    /// <param name="Event">The event name gateway code listens for.</param>
    /// <param name="Data">Any JSON.</param>
    public sealed record ServerEventRequest(string Event, JsonElement? Data);

    /// <summary>The body of <c>POST /events</c>.</summary>
    /// <param name="Event">The event name the clients receive.</param>
    /// <param name="Data">Any JSON; the clients receive it as it is.</param>
    /// <param name="Namespace">The namespace, <c>/</c> (the default) or <c>/name</c>.</param>
    /// <param name="Room">One room of the namespace.</param>
    /// <param name="Rooms">Several rooms of the namespace.</param>
    /// <param name="ConnectionId">One connection.</param>
    /// <param name="UserId">Every connection of one user.</param>
    /// <param name="Except">Connections that must not receive it (with the namespace or one room).</param>
    public sealed record EventRequest(string Event, JsonElement? Data, string? Namespace, string? Room, string[]? Rooms, string? ConnectionId, string? UserId, string[]? Except);
}
