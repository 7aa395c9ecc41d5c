using Realtime.Contracts;

namespace Realtime.Grains.Gateways;

/// <summary>
/// Asks every gateway of the cluster a question about its own connections: how a grain that came back after its silo
/// died (or after it was idle) learns the state that the gateways, its source of truth, hold. A gateway whose silo
/// leaves the cluster or is declared dead while it is asked is skipped (its members are dropped anyway); one that stays
/// active and does not answer within the timeout fails the whole question, so that a grain never goes on with part of
/// its state.
/// </summary>
/// <remarks>
/// A question that goes unanswered is asked again, every <see cref="AttemptTimeout"/>, within the overall timeout:
/// Orleans routes an answer by the asking grain's directory entry, and while two silos race to activate a new grain,
/// the answer can go to the one that lost and be dropped there.
/// </remarks>
internal static class GatewayQuery
{
    /// <summary>How long one attempt waits for a gateway's answer.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);

    /// <summary>The answers of every gateway that answered, in no particular order.</summary>
    public static Task<List<T>> AskAllAsync<T>(GatewayDirectory gateways, Func<IGatewayService, Task<T>> ask, TimeSpan timeout, string asker) =>
        AskAllAsync(gateways, (gateway, _) => ask(gateway), timeout, asker);

    /// <summary>The answers of every gateway that answered, in no particular order; <paramref name="ask"/> is given each gateway's silo too.</summary>
    public static async Task<List<T>> AskAllAsync<T>(GatewayDirectory gateways, Func<IGatewayService, SiloAddress, Task<T>> ask, TimeSpan timeout, string asker)
    {
        var silos = gateways.Candidates();
        var deadline = gateways.Time.GetUtcNow() + timeout;
        var questions = new Task<(bool Answered, T Answer)>[silos.Count];
        for (var i = 0; i < questions.Length; i++)
        {
            questions[i] = AskAsync(gateways, silos[i], ask, deadline, asker);
        }

        var answers = new List<T>(questions.Length);
        foreach (var question in questions)
        {
            var (answered, answer) = await question;
            if (answered)
            {
                answers.Add(answer);
            }
        }

        return answers;
    }

    private static async Task<(bool Answered, T Answer)> AskAsync<T>(
        GatewayDirectory gateways, SiloAddress silo, Func<IGatewayService, SiloAddress, Task<T>> ask, DateTimeOffset deadline, string asker)
    {
        var gateway = gateways.OfSilo(silo);
        var time = gateways.Time;
        while (true)
        {
            // At the deadline an attempt still gets its answer if it is there, and times out at once if not.
            var left = deadline - time.GetUtcNow();
            left = left < TimeSpan.Zero ? TimeSpan.Zero : left;
            try
            {
                return (true, await ask(gateway, silo).WaitAsync(left < AttemptTimeout ? left : AttemptTimeout, time));
            }
            catch (Exception) when (!gateways.IsActive(silo))
            {
                // Left the cluster or declared dead meanwhile: its connections are gone with it.
                return (false, default!);
            }
            catch (Exception ex) when (ex is TimeoutException or SiloUnavailableException && time.GetUtcNow() < deadline)
            {
                // Unanswered, or unreachable for a moment: ask again.
                await Task.Delay(ex is SiloUnavailableException ? TimeSpan.FromMilliseconds(100) : TimeSpan.Zero, time);
            }
            catch (Exception ex)
            {
                throw new OrleansException(
                    $"{asker} could not learn its members from the gateway on silo {silo} ({ex.GetType().Name}: {ex.Message}); it does not deliver with part of them.",
                    ex);
            }
        }
    }
}
