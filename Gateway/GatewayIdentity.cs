using Microsoft.Extensions.Options;
using Realtime.Contracts;

namespace Realtime.Gateway;

/// <summary>
/// Who this gateway process is among the gateways: <c>{Gateway:Name}@{its silo}</c> (<see cref="GatewayIds"/>). The
/// silo's generation makes a restarted process a new gateway, so that nothing recorded for its predecessor (members,
/// sessions) is taken for its own; and the silo tells every node where to reach it and whether it is alive.
/// </summary>
internal sealed class GatewayIdentity(IOptions<GatewayOptions> options, ILocalSiloDetails silo)
{
    public string GatewayId { get; } = GatewayIds.Create(options.Value.Name, silo.SiloAddress);
}
