using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Placement;
using Realtime.Contracts;
using Realtime.Contracts.Hosting;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>
/// What rooms, namespaces and users share: members grouped by gateway, kept alive while there are any, and a publish
/// that stamps the next sequence number and sends one delivery per gateway. Each grain names joining and leaving in
/// its own contract's words (join or connect, leave or disconnect).
/// </summary>
/// <remarks>
/// Members are soft state: the gateways, which hold the connections, are its source of truth. An activation starts
/// by asking every gateway of the cluster for its members of this group, so a group whose silo died (or that was
/// collected while idle) comes back whole on its next call, before it delivers anything, and no client joins again.
/// </remarks>
internal abstract partial class MemberGroupGrain : Grain, IMemberGroupGrain, IGrainMigrationParticipant
{
    private readonly MemberTable _members = new();
    private readonly DeliveryTarget _target;
    private readonly GatewayDependents _dependents;
    private readonly GatewayDirectory _gateways;
    private readonly TimeSpan _rebuildTimeout;
    private readonly TimeSpan _responseTimeout;
    private string _hub = "";
    private string _key = "";
    private long _sequence;
    private Orleans.Streams.IAsyncStream<ClientEvent>? _clientEvents;

    // History (rooms and namespaces): the last messages, oldest first, with when they were sent. The epoch names the
    // group's numbering: sequence numbers of another (before the silo died, or an idle collection) mean nothing here.
    // A group that migrates to another silo takes its numbering, members and history with it.
    private string _epoch = Epochs.New();
    private MessageHistory? _history;
    private TimeProvider _time = TimeProvider.System;
    private (Member[] Members, Dictionary<string, ChainState> Chains, HistorySnapshot? History)? _migrated;

    private readonly ILogger _logger;

    private protected MemberGroupGrain(DeliveryTarget target, GatewayDependents dependents, GatewayDirectory gateways, IOptions<RealtimeClusterOptions> cluster, ILogger logger)
    {
        _target = target;
        _dependents = dependents;
        _gateways = gateways;
        _rebuildTimeout = cluster.Value.RebuildTimeout;
        _responseTimeout = cluster.Value.ResponseTimeout;
        _logger = logger;
    }

    private protected MemberTable MemberTable => _members;

    private protected GatewayDirectory Gateways => _gateways;

    private protected string Hub => _hub;

    private protected string Key => _key;

    /// <summary>Where the group stands: a member added now receives every message after this.</summary>
    private protected GroupPosition Position => new(_epoch, _sequence);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = this.GetPrimaryKeyString();
        _hub = GrainKeys.HubOf(_key);
        _time = ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
        if (_target is DeliveryTarget.Room or DeliveryTarget.Namespace && ServiceProvider.GetService<IOptions<HistoryOptions>>() is { Value.Enabled: true } history)
        {
            _history = new MessageHistory(history.Value, _time);
        }

        if (_migrated is { } migrated)
        {
            // Moved here from another silo, whole: nothing to ask the gateways, and each gateway's chain goes on.
            _members.Carry(migrated.Chains);
            foreach (var member in migrated.Members)
            {
                _ = AddMember(member);
            }

            if (migrated.History is { } snapshot)
            {
                _history?.Import(snapshot);
            }

            _migrated = null;
            Migrated(_logger, _target, _key, _members.Count, _sequence);
            return;
        }

        // A gateway of an earlier version (see PayloadForms) is asked for its members alone.
        var answers = await GatewayQuery.AskAllAsync(
            _gateways,
            (gateway, silo) => _gateways.Reads(silo, PayloadForms.PositionsVersion) ? gateway.GroupState(_hub, _target, _key) : MembersOfAsync(gateway),
            _rebuildTimeout,
            $"{_target} {_key}");
        foreach (var answer in answers)
        {
            foreach (var member in answer.Members)
            {
                _ = AddMember(member);
            }
        }

        SendMissedAgain(answers);

        // Each gateway learns the new epoch before any message of it, so that it can tell a next activation what it
        // missed of this one even if that is every message.
        _members.Publish(Notice(DeliveryKind.Started));
        Activated(_logger, _target, _key, _members.Count, answers.Count);
    }

    private async Task<GatewayGroupState> MembersOfAsync(IGatewayService gateway) => new(await gateway.Members(_hub, _target, _key), null, []);

    /// <summary>
    /// Sends again, before anything else, what the group's previous activation was answered for but a gateway did not
    /// get: that activation sent each gateway its delivery without waiting, and its answer to the sender could leave
    /// its silo before a delivery to another gateway did, when the silo died in between. The senders' gateways keep
    /// what the group took from them for a while (<see cref="IMemberGroupGrain.Send"/>); each gateway with members
    /// gets those numbered after the last one it applied, of the same epoch, in order. A message that no gateway kept
    /// (a service's, or older than they keep) is not here: the gateway tells its members of the gap it leaves.
    /// </summary>
    private void SendMissedAgain(List<GatewayGroupState> answers)
    {
        if (Epochs.AllSent(answers) is not { } sent)
        {
            return;
        }

        foreach (var answer in answers)
        {
            if (answer is not { Applied: { } applied, Members: [{ GatewayId: var gatewayId }, ..] })
            {
                continue;
            }

            var missed = Epochs.MissedBy(sent, applied, _hub, _target, _key);
            foreach (var delivery in missed)
            {
                _members.SendTo(gatewayId, delivery);
            }

            if (missed.Count > 0)
            {
                SentAgain(_logger, _target, _key, missed.Count, applied.Epoch, gatewayId);
            }
        }
    }

    public void OnDehydrate(IDehydrationContext dehydrationContext)
    {
        dehydrationContext.TryAddValue(nameof(_epoch), _epoch);
        dehydrationContext.TryAddValue(nameof(_sequence), _sequence);
        dehydrationContext.TryAddValue(nameof(_members), _members.Members().ToArray());
        dehydrationContext.TryAddValue(nameof(MemberTable.Chains), _members.Chains());
        if (_history is not null)
        {
            dehydrationContext.TryAddValue(nameof(_history), _history.Export());
        }
    }

    public void OnRehydrate(IRehydrationContext rehydrationContext)
    {
        if (rehydrationContext.TryGetValue<string>(nameof(_epoch), out var epoch) && epoch is not null
            && rehydrationContext.TryGetValue<long>(nameof(_sequence), out var sequence)
            && rehydrationContext.TryGetValue<Member[]>(nameof(_members), out var members) && members is not null
            && rehydrationContext.TryGetValue<Dictionary<string, ChainState>>(nameof(MemberTable.Chains), out var chains) && chains is not null)
        {
            _epoch = epoch;
            _sequence = sequence;
            _migrated = (members, chains, rehydrationContext.TryGetValue<HistorySnapshot>(nameof(_history), out var history) ? history : null);
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var gatewayId in _members.GatewayIds)
        {
            _dependents.Remove(_hub, gatewayId, GrainContext.GrainId);
        }

        return Task.CompletedTask;
    }

    private protected Task<int> AddMember(Member member)
    {
        if (_members.Add(member, _gateways))
        {
            _dependents.Add(_hub, member.GatewayId, GrainContext.GrainId);
        }

        KeepAlive();
        return Task.FromResult(_members.Count);
    }

    /// <summary>Removes a member; returns its gateway's chain, on which a notice of the removal comes after everything sent before.</summary>
    private protected DeliveryChain? RemoveMember(string gatewayId, string connectionId)
    {
        var (chain, wasLast) = _members.Remove(gatewayId, connectionId);
        if (wasLast)
        {
            _dependents.Remove(_hub, gatewayId, GrainContext.GrainId);
        }

        KeepAlive();
        return chain;
    }

    /// <summary>A notice about the group, for its gateways.</summary>
    private protected Delivery Notice(DeliveryKind kind, string? connection = null) =>
        new(_hub, _target, _key, _sequence, null, null, Kind: kind, Connection: connection, Epoch: _epoch);

    public Task<long> Publish(Publication publication)
    {
        var time = _time.GetUtcNow();
        var delivery = Stamp(publication, time);
        _members.Publish(delivery);
        return publication.Source is null ? Task.FromResult(delivery.Sequence) : StreamAsync(publication.Source, delivery.Sequence, time);
    }

    public async Task<long> PublishConfirmed(Publication publication)
    {
        var time = _time.GetUtcNow();
        var delivery = Stamp(publication, time);
        // A gateway whose call fails is waited for as long as a call may take, for the membership to say it died.
        var confirmed = Task.WhenAll(_members.PublishConfirmed(delivery, _responseTimeout));
        if (publication.Source is { } source)
        {
            await StreamAsync(source, delivery.Sequence, time);
        }

        await confirmed;
        return delivery.Sequence;
    }

    /// <summary>
    /// Publishes in order, and sends each gateway what it gets of them in one call (<see cref="MemberTable.PublishAll"/>):
    /// a sender's batch costs one message between the nodes per gateway, not one per send.
    /// </summary>
    public Task<long> PublishAll(IReadOnlyList<Publication> publications)
    {
        switch (publications.Count)
        {
            case 0:
                return Task.FromResult(_sequence);
            case 1:
                return Publish(publications[0]);
        }

        var time = _time.GetUtcNow();
        var deliveries = new Delivery[publications.Count];
        var streamed = false;
        for (var i = 0; i < deliveries.Length; i++)
        {
            deliveries[i] = Stamp(publications[i], time);
            streamed |= publications[i].Source is not null;
        }

        _members.PublishAll(deliveries);
        return streamed ? StreamAllAsync(publications, deliveries, time) : Task.FromResult(_sequence);
    }

    /// <summary>The publication numbered as the group's next message, and kept in its history with whom it left out, so that a replay leaves the same members out.</summary>
    private Delivery Stamp(Publication publication, DateTimeOffset time)
    {
        var sequence = ++_sequence;
        _history?.Add(new HistoryEntry(sequence, publication.Payload, publication.Except, publication.Rooms, publication.Source, publication.Source is null ? default : time));
        return new Delivery(_hub, _target, _key, sequence, publication.Payload, publication.Except, publication.Rooms, Epoch: _epoch);
    }

    /// <summary>Puts a batch's client events on their namespace's stream, one after the other, after the members got them.</summary>
    private async Task<long> StreamAllAsync(IReadOnlyList<Publication> publications, Delivery[] deliveries, DateTimeOffset time)
    {
        for (var i = 0; i < deliveries.Length; i++)
        {
            if (publications[i].Source is { } source)
            {
                await StreamAsync(source, deliveries[i].Sequence, time);
            }
        }

        return deliveries[^1].Sequence;
    }

    public Task<GroupPosition> Send(Publication publication)
    {
        var published = Publish(publication);
        return published.IsCompletedSuccessfully ? Task.FromResult(new GroupPosition(_epoch, published.Result)) : PositionAsync(published);
    }

    public Task<GroupPosition> SendAll(IReadOnlyList<Publication> publications) => PositionAsync(PublishAll(publications));

    private async Task<GroupPosition> PositionAsync(Task<long> published) => new(_epoch, await published);

    /// <summary>
    /// Puts a client's event on its namespace's stream, after its members got it. A stream that cannot take it does not
    /// undo the send: the failure is logged.
    /// </summary>
    private async Task<long> StreamAsync(ClientEventSource source, long sequence, DateTimeOffset time)
    {
        var room = _target == DeliveryTarget.Room ? GrainKeys.RoomName(_key) : null;
        try
        {
            _clientEvents ??= this.GetStreamProvider(RealtimeStreams.ProviderName).GetStream<ClientEvent>(RealtimeStreams.ClientEventsOf(_hub, source.Namespace));
            await _clientEvents.OnNextAsync(new ClientEvent(_hub, source.Namespace, room, source.Sender, sequence, source.Event, source.Data, time, _epoch));
        }
        catch (Exception ex)
        {
            StreamFailed(_logger, _key, sequence, ex);
        }

        return sequence;
    }

    public Task MoveTo(SiloAddress silo)
    {
        RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
        this.MigrateOnIdle();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Member>> Members() => Task.FromResult(_members.Members());

    public async Task<IReadOnlyList<SessionInfo>> Sessions()
    {
        // Who is where is read before the first await: joins and leaves interleave with the gateways' answers.
        var byGateway = _members.ByGateway();
        var found = await Task.WhenAll(byGateway.Select(g => SessionsOnAsync(g.Gateway, g.GatewayId, g.ConnectionIds)));
        return [.. found.SelectMany(static sessions => sessions)];
    }

    /// <summary>Sessions of one gateway's members, from the gateway; from their session grains when the gateway does not answer.</summary>
    private async Task<IReadOnlyList<SessionInfo>> SessionsOnAsync(IGatewayService gateway, string gatewayId, string[] connectionIds)
    {
        try
        {
            return await gateway.Sessions(_hub, connectionIds);
        }
        catch (Exception ex)
        {
            SessionsFromGrains(_logger, _key, gatewayId, connectionIds.Length, ex);
            var sessions = await Task.WhenAll(connectionIds.Select(id => GrainFactory.GetGrain<ISessionGrain>(GrainKeys.Session(_hub, id)).Get()));
            return [.. sessions.OfType<SessionInfo>()];
        }
    }

    public Task<Replay> Since(string? epoch, long sequence) =>
        Task.FromResult(_history?.Since(epoch, sequence, _epoch, _sequence) ?? new Replay(false, _epoch, _sequence, []));

    public Task<int> MemberCount() => Task.FromResult(_members.Count);

    /// <summary>A gateway that left the cluster, or was declared dead, takes its members with it.</summary>
    public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds)
    {
        foreach (var gatewayId in gatewayIds)
        {
            if (_members.RemoveGateway(gatewayId))
            {
                _dependents.Remove(_hub, gatewayId, GrainContext.GrainId);
            }
        }

        KeepAlive();
        return Task.CompletedTask;
    }

    /// <summary>Tells every gateway with members that the group closed, and forgets them all.</summary>
    private protected void CloseGroup()
    {
        _members.Publish(Notice(DeliveryKind.Closed));
        foreach (var gatewayId in _members.GatewayIds)
        {
            _dependents.Remove(_hub, gatewayId, GrainContext.GrainId);
        }

        _members.Clear();
        KeepAlive();
    }

    [LoggerMessage(122, LogLevel.Warning, "Putting message {Sequence} of {Key} on its namespace's client-event stream failed; its members got it.")]
    private static partial void StreamFailed(ILogger logger, string key, long sequence, Exception exception);

    [LoggerMessage(124, LogLevel.Warning, "Gateway {GatewayId} did not give the sessions of its {Count} member(s) of {Key}; they are read from their session grains.")]
    private static partial void SessionsFromGrains(ILogger logger, string key, string gatewayId, int count, Exception exception);

    [LoggerMessage(127, LogLevel.Information, "{Target} {Key} came back and sent {Count} message(s) of its previous activation ({Epoch}) again to gateway {GatewayId}, which had not had them.")]
    private static partial void SentAgain(ILogger logger, DeliveryTarget target, string key, int count, string epoch, string gatewayId);

    [LoggerMessage(123, LogLevel.Debug, "{Target} {Key} migrated here with {Members} member(s), at message {Sequence}.")]
    private static partial void Migrated(ILogger logger, DeliveryTarget target, string key, int members, long sequence);

    [LoggerMessage(121, LogLevel.Debug, "{Target} {Key} activated with {Members} member(s) from {Gateways} gateway(s).")]
    private static partial void Activated(ILogger logger, DeliveryTarget target, string key, int members, int gateways);

    /// <summary>A group lives while it has members, and an empty one while its history may still be asked for.</summary>
    private void KeepAlive() => DelayDeactivation(
        _members.Count > 0 ? TimeSpan.MaxValue : _history is { Count: > 0 } history ? history.MaxAge : TimeSpan.Zero);
}
