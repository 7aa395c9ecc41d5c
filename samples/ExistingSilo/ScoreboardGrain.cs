using Realtime.Client.Emitting;

namespace Realtime.Samples.ExistingSilo;

/// <summary>One of the application's own grains: keeps the scores, and tells the room "scoreboard" of each.</summary>
public interface IScoreboardGrain : IGrainWithStringKey
{
    /// <summary>Adds points to a player; returns the player's total, once every gateway with members has the event.</summary>
    Task<int> Score(string player, int points);
}

public sealed class ScoreboardGrain(IRealtimeEmitter emitter) : Grain, IScoreboardGrain
{
    private readonly Dictionary<string, int> _totals = new(StringComparer.Ordinal);

    public async Task<int> Score(string player, int points)
    {
        var total = _totals[player] = _totals.GetValueOrDefault(player) + points;

        // A grain call like any other: the room's grain numbers the event and pushes it to each gateway with members.
        await emitter.Room("/", "scoreboard").EmitAsync("score", new { player, total });
        return total;
    }
}
