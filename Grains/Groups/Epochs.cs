using System.Security.Cryptography;
using Realtime.Contracts;

namespace Realtime.Grains.Groups;

/// <summary>
/// What a group's (or a hub's) new activation shares with the next: its epoch, and working out which of the messages
/// the gateways kept (<see cref="GatewayGroupState.Sent"/>) a gateway missed of its previous activation.
/// </summary>
internal static class Epochs
{
    /// <summary>A new activation's epoch: the name of its numbering (see <see cref="Delivery.Epoch"/>).</summary>
    public static string New() => Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant();

    /// <summary>Every message the gateways say they sent and the group took; null when none.</summary>
    public static List<SentMessage>? AllSent(IEnumerable<GatewayGroupState> answers)
    {
        List<SentMessage>? sent = null;
        foreach (var answer in answers)
        {
            if (answer.Sent.Count > 0)
            {
                (sent ??= []).AddRange(answer.Sent);
            }
        }

        return sent;
    }

    /// <summary>
    /// What to send again to a gateway that applied up to <paramref name="applied"/>: the messages of
    /// <paramref name="sent"/> of the same epoch after it, once each (several senders may have kept one), in their
    /// order, as <see cref="DeliveryKind.Resent"/> deliveries of the group that keep their epoch and number.
    /// </summary>
    public static List<Delivery> MissedBy(List<SentMessage> sent, GroupPosition applied, string hub, DeliveryTarget target, string key) =>
        [.. sent.Where(s => s.At.Epoch == applied.Epoch && s.At.Sequence > applied.Sequence)
            .DistinctBy(s => s.At.Sequence)
            .OrderBy(s => s.At.Sequence)
            .Select(s => new Delivery(
                hub, target, key, s.At.Sequence, s.Publication.Payload, s.Publication.Except, s.Publication.Rooms, Kind: DeliveryKind.Resent, Epoch: applied.Epoch))];
}
