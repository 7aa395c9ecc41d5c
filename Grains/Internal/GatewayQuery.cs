using Realtime.Grains.Hubs;

namespace Realtime.Grains.Internal;

/// <summary>
/// Asks every gateway holding a lease in a hub's registry a question about its own connections: how a grain that
/// came back after its silo died (or after it was idle) learns the state that the gateways, its source of truth,
/// hold. A gateway that Orleans cannot reach and that has missed its lease renewals is skipped (its lease runs out and
/// its members are dropped anyway); any other failure fails the whole question, so that a grain never goes on with
/// part of its state.
/// </summary>
/// <remarks>
/// A question that goes unanswered is asked again, every <see cref="AttemptTimeout"/>, within the overall timeout:
/// Orleans routes an observer's answer by the asking grain's directory entry, and while two silos race to activate a
/// new grain, the answer can go to the one that lost and be dropped there. A gateway that renewed its lease moments
/// ago but cannot be reached (the silo it was connected through just died) is asked again too.
/// </remarks>
internal static class GatewayQuery
{
    /// <summary>How long one attempt waits for a gateway's answer.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);

    public static async Task<List<(GatewayRegistration Gateway, T Answer)>> AskAllAsync<T>(
        IGrainFactory grains, string hub, Func<IGatewayObserver, Task<T>> ask, GatewayLeaseOptions lease, string asker)
    {
        var view = await grains.GetGrain<IHubGrain>(hub).Gateways();
        var deadline = DateTime.UtcNow + lease.RebuildTimeout;
        var questions = new Task<(bool Answered, T Answer)>[view.Live.Count];
        for (var i = 0; i < questions.Length; i++)
        {
            // A gateway that missed two renewals in a row is probably gone; one that renewed since is not.
            var missedRenewals = view.SinceRenewal[i] > lease.RenewPeriod * 2;
            questions[i] = AskAsync(view.Live[i], ask, deadline, missedRenewals, asker);
        }

        var answers = new List<(GatewayRegistration, T)>(questions.Length);
        for (var i = 0; i < questions.Length; i++)
        {
            var (answered, answer) = await questions[i];
            if (answered)
            {
                answers.Add((view.Live[i], answer));
            }
        }

        return answers;
    }

    private static async Task<(bool Answered, T Answer)> AskAsync<T>(
        GatewayRegistration gateway, Func<IGatewayObserver, Task<T>> ask, DateTime deadline, bool missedRenewals, string asker)
    {
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            try
            {
                return (true, await ask(gateway.Observer).WaitAsync(left < AttemptTimeout ? left : AttemptTimeout));
            }
            catch (ClientNotAvailableException) when (missedRenewals)
            {
                // Not connected to the cluster, and not renewing: gone.
                return (false, default!);
            }
            catch (Exception ex) when (ex is TimeoutException or ClientNotAvailableException && DateTime.UtcNow < deadline)
            {
                // Unanswered, or unreachable for a moment: ask again.
                await Task.Delay(ex is ClientNotAvailableException ? TimeSpan.FromMilliseconds(100) : TimeSpan.Zero);
            }
            catch (Exception ex)
            {
                throw new OrleansException(
                    $"{asker} could not learn its members from gateway {gateway.GatewayId} ({ex.GetType().Name}: {ex.Message}); it does not deliver with part of them.",
                    ex);
            }
        }
    }
}
