using Realtime.Contracts;

namespace Realtime.Grains.Groups;

/// <summary>
/// What one activation sends one gateway: a random chain id and the next position in it (see
/// <see cref="Delivery.Chain"/>), so that the gateway can put the one-way deliveries back in order.
/// </summary>
internal sealed class DeliveryChain(IGatewayService gateway, ChainState? carried = null)
{
    private readonly long _id = carried?.Id ?? NewId();
    private long _position = carried?.Position ?? 0;

    /// <summary>Where the chain stands, to carry it to another activation of the group (a migration), which goes on with it.</summary>
    public ChainState State => new(_id, _position);

    public IGatewayService Gateway { get; } = gateway;

    /// <summary>Sends <paramref name="delivery"/> to the gateway as the chain's next one.</summary>
    public void Send(Delivery delivery) => _ = Gateway.Deliver(delivery with { Chain = _id, Position = ++_position });

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
