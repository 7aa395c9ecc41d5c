using Realtime.Contracts;

namespace Realtime.Gateway.Core;

/// <summary>
/// One message on its way to this gateway's recipients, whatever their protocol. Each protocol encodes it on first
/// use (<see cref="Form"/>) and keeps that form here, so that the message is encoded once per protocol however
/// many connections receive it. Used by one thread at a time.
/// </summary>
internal sealed class OutgoingMessage(SerializedPayload payload, StreamPosition? position = null)
{
    // The forms the protocols made, by the key each protocol keeps (one or two per message: no dictionary).
    private (object Key, object Form) _first;
    private List<(object Key, object Form)>? _more;

    public SerializedPayload Payload { get; } = payload;

    /// <summary>Where the message stands in the stream of its room, namespace or session; null for other messages.</summary>
    public StreamPosition? Position { get; } = position;

    /// <summary>
    /// The form a protocol keeps under <paramref name="key"/>, made by <paramref name="make"/> the first time it is asked
    /// for (a static function, so that asking allocates nothing). Not generic: it runs once per recipient, and the
    /// protocol's cast to its own sealed type costs less than a cast to a type parameter in shared generic code.
    /// </summary>
    public object Form(object key, Func<OutgoingMessage, object> make)
    {
        if (ReferenceEquals(_first.Key, key))
        {
            return _first.Form;
        }

        if (_more is not null)
        {
            foreach (var (k, form) in _more)
            {
                if (ReferenceEquals(k, key))
                {
                    return form;
                }
            }
        }

        var made = make(this);
        if (_first.Key is null)
        {
            _first = (key, made);
        }
        else
        {
            (_more ??= []).Add((key, made));
        }

        return made;
    }
}

/// <summary>
/// Where a message stands in the stream of what sent it: a room or namespace (by grain key), or the session of the
/// one connection it is for (<see cref="ToConnection"/>); with that stream's epoch and the message's sequence number.
/// </summary>
internal readonly record struct StreamPosition(string Key, string Epoch, long Sequence, bool ToConnection = false);
