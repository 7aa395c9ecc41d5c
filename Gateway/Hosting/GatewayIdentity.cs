using System.Globalization;
using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Hosting;

/// <summary>
/// Who this gateway process is among the gateways: <c>{Gateway:Name}@{start time}</c>. The start time makes a restarted
/// process a new gateway, so that nothing recorded for its predecessor (members, sessions) is taken for its own.
/// </summary>
internal sealed class GatewayIdentity(IOptions<GatewayOptions> options, TimeProvider time)
{
    public string GatewayId { get; } = $"{options.Value.Name}@{time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
}
