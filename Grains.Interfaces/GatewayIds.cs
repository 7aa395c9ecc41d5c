namespace Realtime.Contracts;

/// <summary>
/// How a gateway's id is written: <c>{name}@{silo}</c>, the gateway's name and the address of the silo it is
/// (<see cref="SiloAddress.ToParsableString"/>, which holds the silo's endpoint and generation). A restarted gateway is
/// a new silo, so nothing recorded for its predecessor is taken for its own; and any node can tell from an id alone
/// which silo serves that gateway, and whether the cluster has declared it dead.
/// </summary>
public static class GatewayIds
{
    /// <summary>The id of gateway <paramref name="name"/> on <paramref name="silo"/>.</summary>
    public static string Create(string name, SiloAddress silo) => $"{name}@{silo.ToParsableString()}";

    /// <summary>The silo of a gateway id made by <see cref="Create"/>; false when the id is not one.</summary>
    public static bool TryGetSilo(string gatewayId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SiloAddress? silo)
    {
        silo = null;
        var at = gatewayId.IndexOf('@', StringComparison.Ordinal);
        return at >= 0 && SiloAddress.TryParse(gatewayId[(at + 1)..], null, out silo);
    }

    /// <summary>The name part of a gateway id.</summary>
    public static string NameOf(string gatewayId)
    {
        var at = gatewayId.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? gatewayId : gatewayId[..at];
    }
}
