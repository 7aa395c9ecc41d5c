using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// Sends to rooms, namespaces and users through their grains, keeping what each grain took (<see cref="SentLog"/>) so
/// that a grain whose silo died under it can send it again to the gateways it missed; and what a grain's new
/// activation asks of this gateway for that.
/// </summary>
public sealed partial class LocalHub<THub>
{
    /// <summary>
    /// True when sends are kept: the log is on, and every silo of the cluster answers sends with their position
    /// (<see cref="Realtime.Grains.Gateways.PayloadForms.EverySiloSendsPositions"/>); during a rolling upgrade from an
    /// earlier version, sends go as before.
    /// </summary>
    private bool KeepsSends => _sent?.Keeps == true;

    /// <summary>Sends a publication to a group's grain; what it took is kept for a while (see <see cref="SentLog"/>).</summary>
    internal Task Publish(IMemberGroupGrain group, Publication publication) =>
        KeepsSends ? KeepAsync(group, group.Send(publication), [publication]) : group.Publish(publication);

    /// <summary>Sends publications to a group's grain in one call, in order; what it took is kept for a while.</summary>
    internal Task PublishAll(IMemberGroupGrain group, Publication[] publications) =>
        publications.Length == 1 ? Publish(group, publications[0])
        : KeepsSends ? KeepAsync(group, group.SendAll(publications), publications) : group.PublishAll(publications);

    private async Task KeepAsync(IMemberGroupGrain group, Task<GroupPosition> sent, IReadOnlyList<Publication> publications) =>
        _sent!.Add(group, await sent, publications);

    GatewayGroupState ILocalHub.GroupState(DeliveryTarget target, string key)
    {
        var members = ((ILocalHub)this).Members(target, key);
        if (target is not (DeliveryTarget.Room or DeliveryTarget.Namespace or DeliveryTarget.User))
        {
            return new GatewayGroupState(members, null, []);
        }

        var applied = IndexOf(target).Group(key)?.Order.Applied;
        if (_sent is not { Enabled: true } sent)
        {
            return new GatewayGroupState(members, applied, []);
        }

        IMemberGroupGrain grain = target switch
        {
            DeliveryTarget.Room => _references.Get<IRoomGrain>(key),
            DeliveryTarget.Namespace => _references.Get<INamespaceGrain>(key),
            _ => _references.Get<IUserGrain>(key),
        };
        return new GatewayGroupState(members, applied, sent.Of(grain));
    }

    /// <summary>Where a group stood when a member here joined it, for a group that applied nothing here yet (see <see cref="DeliveryOrder.Seed"/>).</summary>
    private static void Seed(LocalIndex index, string key, GroupPosition position) => index.Group(key)?.Order.Seed(position);
}
