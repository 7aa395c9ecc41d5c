using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Observers;

namespace Realtime.Runtime.Internal.Messaging;

/// <summary>Routes every message inside this process: the router of the embedded single-node mode.</summary>
internal sealed class LocalMessageRouter(Catalog catalog, ObserverRegistry observers, RuntimeClient runtime) : IMessageRouter
{
    public void Route(Message message)
    {
        if (message.Kind == MessageKind.Response)
        {
            runtime.ReceiveResponse(message);
        }
        else if (message.Target.Type == ObserverRegistry.GrainType)
        {
            observers.Deliver(message);
        }
        else
        {
            catalog.Deliver(message);
        }
    }
}
