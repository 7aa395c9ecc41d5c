namespace Realtime.Runtime.Internal.Messaging;

/// <summary>
/// Takes every message the runtime sends and brings it to its target: a local activation, a local observer, a
/// waiting caller. This is the seam where the cluster adds placement and the transport to other nodes.
/// </summary>
internal interface IMessageRouter
{
    void Route(Message message);
}
