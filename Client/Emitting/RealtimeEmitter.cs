using Microsoft.Extensions.Options;
using Realtime.Client.Hosting;
using Realtime.Contracts;
using Realtime.Wire;

namespace Realtime.Client.Emitting;

internal sealed class RealtimeEmitter(IGrainFactory grains, PayloadSerializer serializer, IOptions<RealtimeClientOptions> options) : IRealtimeEmitter
{
    /// <summary>The client method of the RealtimeHub that application events arrive on.</summary>
    public const string EventMethod = "event";

    private readonly RealtimeClientOptions _options = options.Value;

    public IRealtimeEmitTarget All(string @namespace = "/") => AllExcept(@namespace);

    public IRealtimeEmitTarget AllExcept(string @namespace, params string[] connectionIds)
    {
        var key = GrainKeys.Namespace(_options.Hub, Checked.Namespace(@namespace));
        return new Target(this, @namespace, null, payload => Publish(grains.GetGrain<INamespaceGrain>(key), new Publication(payload, Except(connectionIds))));
    }

    public IRealtimeEmitTarget Room(string @namespace, string room) => RoomExcept(@namespace, room);

    public IRealtimeEmitTarget RoomExcept(string @namespace, string room, params string[] connectionIds)
    {
        var key = GrainKeys.Room(_options.Hub, Checked.Namespace(@namespace), Checked.Room(room));
        return new Target(this, @namespace, room, payload => Publish(grains.GetGrain<IRoomGrain>(key), new Publication(payload, Except(connectionIds))));
    }

    public IRealtimeEmitTarget Rooms(string @namespace, params string[] rooms)
    {
        var keys = rooms.Select(room => GrainKeys.Room(_options.Hub, Checked.Namespace(@namespace), Checked.Room(room))).ToArray();
        return new Target(this, @namespace, null, payload =>
        {
            var publication = new Publication(payload);
            return Task.WhenAll(keys.Select(key => Publish(grains.GetGrain<IRoomGrain>(key), publication)));
        });
    }

    public IRealtimeEmitTarget Connection(string connectionId)
    {
        var session = Session(connectionId);
        return new Target(this, null, null, payload => session.Send(payload));
    }

    public Task<bool> TryEmitToConnectionAsync(string connectionId, string eventName, object? data, CancellationToken cancellationToken = default) =>
        Session(connectionId).Send(Serialize(eventName, data, null, null)).WaitAsync(cancellationToken);

    private ISessionGrain Session(string connectionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionId);
        return grains.GetGrain<ISessionGrain>(GrainKeys.Session(_options.Hub, connectionId));
    }

    public IRealtimeEmitTarget User(string userId)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var user = grains.GetGrain<IUserGrain>(GrainKeys.User(_options.Hub, userId));
        return new Target(this, null, null, payload => Publish(user, new Publication(payload)));
    }

    /// <summary>Sends to a group's grain: confirmed by every gateway with members (<see cref="RealtimeClientOptions.ConfirmedEmits"/>), or not.</summary>
    private Task Publish(IMemberGroupGrain group, Publication publication) =>
        _options.ConfirmedEmits ? group.PublishConfirmed(publication) : group.Publish(publication);

    private static IReadOnlyList<string>? Except(string[] connectionIds) => connectionIds.Length == 0 ? null : connectionIds;

    private SerializedPayload Serialize(string eventName, object? data, string? @namespace, string? room)
    {
        return serializer.Serialize(EventMethod, [new RealtimeEvent(Checked.Event(eventName), JsonData.ToElement(data), @namespace, room, _options.ServiceName)]);
    }

    private sealed class Target(RealtimeEmitter emitter, string? @namespace, string? room, Func<SerializedPayload, Task> publish) : IRealtimeEmitTarget
    {
        public Task EmitAsync(string eventName, object? data, CancellationToken cancellationToken = default) =>
            publish(emitter.Serialize(eventName, data, @namespace, room)).WaitAsync(cancellationToken);
    }
}

/// <summary>Validates names where a service passes them in, with errors that say what is wrong.</summary>
internal static class Checked
{
    /// <summary>A namespace written <c>/</c> or <c>/name</c>.</summary>
    public static string Namespace(string @namespace)
    {
        if (@namespace == GrainKeys.DefaultNamespace)
        {
            return @namespace;
        }

        var error = @namespace is ['/', ..] ? Names.ValidateNamespace(@namespace[1..]) : "A namespace is written '/' or '/name'.";
        return error is null ? @namespace : throw new ArgumentException($"Invalid namespace '{@namespace}': {error}", nameof(@namespace));
    }

    public static string Room(string room) =>
        Names.ValidateRoom(room) is { } error ? throw new ArgumentException($"Invalid room name: {error}", nameof(room)) : room;

    public static string Event(string eventName) =>
        Names.ValidateEvent(eventName) is { } error ? throw new ArgumentException($"Invalid event name: {error}", nameof(eventName)) : eventName;
}
