namespace Realtime.Grains.Internal;

/// <summary>
/// What one activation sends one gateway: a random chain id and the next position in it (see
/// <see cref="Delivery.Chain"/>), so that the gateway can put the one-way deliveries back in order.
/// </summary>
internal sealed class DeliveryChain(IGatewayService gateway)
{
    private readonly long _id = NewId();
    private long _position;

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
