using Realtime.Contracts;
using Realtime.Grains.Gateways;

namespace Realtime.Grains.Groups;

/// <summary>
/// What one activation sends one gateway: a random chain id and the next position in it (see
/// <see cref="Delivery.Chain"/>), so that the gateway can put the one-way deliveries back in order. A message to the
/// gateway of the group's own silo is handed to it in the group's turn (<see cref="GatewayDirectory.HereOf"/>), not
/// sent as a call to the silo's gateway service: that call would be one more message and one more thread to wake for
/// every message the group sends. Notices still go as calls, since what they start on the gateway (a closed room's
/// forgetting, a leave's answer) must not run on the group's scheduler; the chain's positions keep them in order.
/// What one turn sends another silo's gateway goes in one call (<see cref="SendAll"/>).
/// </summary>
internal sealed class DeliveryChain(GatewayDirectory gateways, string gatewayId, ChainState? carried = null)
{
    private readonly long _id = carried?.Id ?? NewId();
    private readonly Func<Delivery, bool>? _here = gateways.HereOf(gatewayId);
    private long _position = carried?.Position ?? 0;

    /// <summary>Where the chain stands, to carry it to another activation of the group (a migration), which goes on with it.</summary>
    public ChainState State => new(_id, _position);

    public IGatewayService Gateway { get; } = gateways.Of(gatewayId);

    // After Gateway: an id that names no silo was refused there.
    private readonly SiloAddress _silo = gateways.SiloOf(gatewayId)!;

    /// <summary>Sends <paramref name="delivery"/> to the gateway as the chain's next one.</summary>
    public void Send(Delivery delivery)
    {
        var next = delivery with { Chain = _id, Position = ++_position };
        if (next.Kind != DeliveryKind.Message || _here?.Invoke(next) != true)
        {
            _ = Gateway.Deliver(next);
        }
    }

    /// <summary>
    /// Sends <paramref name="delivery"/> (a message) to the gateway as the chain's next one, and completes once the
    /// gateway took it: at once for the gateway of this silo (handed over in this turn) and for one of an earlier version
    /// than <see cref="PayloadForms.ConfirmedVersion"/> (sent without an answer, as <see cref="Send"/> does); when
    /// another silo's gateway answers <see cref="IGatewayService.DeliverConfirmed"/>, or its silo is no longer active
    /// (its connections are gone with it). A call that fails while the gateway's silo is still listed as active (a
    /// process killed a moment ago, not declared dead yet) waits for the membership's verdict, at most
    /// <paramref name="verdictWithin"/>; fails when the gateway is still active then.
    /// </summary>
    public Task SendConfirmed(Delivery delivery, TimeSpan verdictWithin)
    {
        var next = delivery with { Chain = _id, Position = ++_position };
        if (_here?.Invoke(next) == true)
        {
            return Task.CompletedTask;
        }

        if (!gateways.Reads(_silo, PayloadForms.ConfirmedVersion))
        {
            _ = Gateway.Deliver(next);
            return Task.CompletedTask;
        }

        return ConfirmAsync(Gateway.DeliverConfirmed(next), verdictWithin);
    }

    private async Task ConfirmAsync(Task call, TimeSpan verdictWithin)
    {
        try
        {
            await call;
        }
        catch (Exception)
        {
            // Left the cluster or declared dead while it was sent: its members are gone with it.
            if (!await gateways.LeavesWithinAsync(gatewayId, verdictWithin))
            {
                throw;
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="deliveries"/> to the gateway as the chain's next ones, in order: to another silo's gateway
    /// in one call when its silo reads them so (<see cref="PayloadForms.BatchesVersion"/>), one message between the
    /// nodes instead of one per delivery.
    /// </summary>
    public void SendAll(IReadOnlyList<Delivery> deliveries)
    {
        if (deliveries.Count == 1 || _here is not null || !gateways.Reads(_silo, PayloadForms.BatchesVersion))
        {
            foreach (var delivery in deliveries)
            {
                Send(delivery);
            }

            return;
        }

        var numbered = new Delivery[deliveries.Count];
        for (var i = 0; i < numbered.Length; i++)
        {
            numbered[i] = deliveries[i] with { Chain = _id, Position = ++_position };
        }

        _ = Gateway.DeliverAll(numbered);
    }

    private static long NewId()
    {
        long id;
        do
        {
            id = Random.Shared.NextInt64();
        }
        while (id == 0);

        return id;
    }
}

/// <summary>A chain's id and its last position, carried from one activation to the next when a grain migrates.</summary>
[GenerateSerializer, Immutable, Alias("realtime.chain-state")]
internal sealed record ChainState([property: Id(0)] long Id, [property: Id(1)] long Position);
