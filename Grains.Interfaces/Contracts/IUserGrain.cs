namespace Realtime.Contracts;

/// <summary>A user of a hub (key from <see cref="GrainKeys.User"/>): the user's connections on every gateway.</summary>
[Alias("realtime.user")]
public interface IUserGrain : IMemberGroupGrain
{
    /// <summary>A connection of the user opened on a gateway; returns how many the user has.</summary>
    [Alias("connect")]
    Task<int> Connect(Member member);

    /// <summary>A connection of the user closed on its gateway; returns how many the user has left.</summary>
    [Alias("disconnect")]
    Task<int> Disconnect(string gatewayId, string connectionId);
}
