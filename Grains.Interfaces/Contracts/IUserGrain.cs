namespace Realtime.Contracts;

/// <summary>A user of a hub (key from <see cref="GrainKeys.User"/>): the user's connections on every gateway.</summary>
[Alias("realtime.user")]
public interface IUserGrain : IMemberGroupGrain
{
    [Alias("connect")]
    Task<int> Connect(Member member);

    [Alias("disconnect")]
    Task<int> Disconnect(string gatewayId, string connectionId);
}
