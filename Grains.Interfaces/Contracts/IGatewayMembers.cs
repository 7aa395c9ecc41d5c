using Realtime.Runtime;

namespace Realtime.Grains;

/// <summary>What every grain that keeps connections grouped by gateway (rooms, namespaces, users) lets a gateway do.</summary>
public interface IGatewayMembers : IGrainWithStringKey
{
    /// <summary>
    /// Replaces everything the grain knows of one gateway's members with <paramref name="members"/>: how a gateway
    /// re-asserts its members when the ring moves the grain to another silo. Returns the member count.
    /// </summary>
    Task<int> SyncGateway(string gatewayId, IReadOnlyList<Member> members, IGatewayObserver gateway);

    /// <summary>How many members there are, on every gateway, without listing them.</summary>
    Task<int> MemberCount();
}
