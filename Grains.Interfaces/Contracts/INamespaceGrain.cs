namespace Realtime.Contracts;

/// <summary>
/// A namespace of a hub (key from <see cref="GrainKeys.Namespace"/>): its connections by gateway, and broadcast to
/// them. A publication with a room filter goes to each gateway with connections in the namespace, which applies the
/// filter to its own.
/// </summary>
[Alias("realtime.namespace")]
public interface INamespaceGrain : IMemberGroupGrain
{
    /// <summary>Registers a connection; returns where the namespace stands: the connection receives every broadcast after it.</summary>
    [Alias("connect")]
    Task<GroupPosition> Connect(Member member);

    /// <summary>Removes a connection; returns the connection count.</summary>
    [Alias("disconnect")]
    Task<int> Disconnect(string gatewayId, string connectionId);
}
