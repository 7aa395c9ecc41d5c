using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Hosting;
using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Membership;
using Realtime.Runtime.Internal.Messaging;
using Realtime.Runtime.Internal.Observers;

namespace Realtime.Runtime.Internal.Transport;

/// <summary>
/// Routes messages in a cluster. A call to a grain goes straight to the silo that owns it on this node's ring; a
/// silo that receives a call for a grain it does not own passes it on (at most <see cref="ClusterOptions.MaxForwardCount"/>
/// times) and the caller, told by the response, reads the table again. A call to an observer goes to the node named
/// in the observer's id. A response goes back to the node that sent the request.
/// </summary>
internal sealed class ClusterMessageRouter : IMessageRouter
{
    private readonly MessageCenter _messages;
    private readonly ClusterView _view;
    private readonly Catalog _catalog;
    private readonly ObserverRegistry _observers;
    private readonly RuntimeClient _runtime;
    private readonly NodeIdentity _self;
    private readonly int _maxForwards;
    private readonly ILogger<ClusterMessageRouter> _logger;

    public ClusterMessageRouter(
        MessageCenter messages,
        ClusterView view,
        Catalog catalog,
        ObserverRegistry observers,
        RuntimeClient runtime,
        NodeIdentity self,
        IOptions<ClusterOptions> options,
        ILogger<ClusterMessageRouter> logger)
    {
        _messages = messages;
        _view = view;
        _catalog = catalog;
        _observers = observers;
        _runtime = runtime;
        _self = self;
        _maxForwards = options.Value.MaxForwardCount;
        _logger = logger;
    }

    public void Route(Message message) => Dispatch(message, incoming: false);

    /// <summary>Routes a request or one-way message that arrived from another node.</summary>
    public void RouteIncoming(Message message) => Dispatch(message, incoming: true);

    private void Dispatch(Message message, bool incoming)
    {
        if (message.Kind == MessageKind.Response)
        {
            if (message.Origin is null || message.Origin == _self.Name)
            {
                if (message.ForwardCount > 0)
                {
                    _view.RequestRefresh(); // our ring sent it to a silo that no longer owned the grain
                }

                _runtime.ReceiveResponse(message);
            }
            else
            {
                _messages.Send(message.Origin, message);
            }

            return;
        }

        if (message.Target.Type == ObserverRegistry.GrainType)
        {
            var node = ObserverRegistry.NodeOf(message.Target);
            if (node == _self.Name)
            {
                _observers.Deliver(message);
            }
            else
            {
                _messages.Send(node, message);
            }

            return;
        }

        var owner = _view.Current.Ring.Owner(message.Target);
        if (owner is null)
        {
            Fail(message, "no silo is active in the cluster");
        }
        else if (owner == _self.Name && _self.Role == NodeRole.Silo)
        {
            _catalog.Deliver(message);
        }
        else if (incoming && ++message.ForwardCount > _maxForwards)
        {
            Fail(message, $"it was passed on {_maxForwards} times without reaching the owner (the silos disagree about the membership)");
        }
        else
        {
            _messages.Send(owner, message);
        }
    }

    private void Fail(Message message, string reason)
    {
        if (message.Kind == MessageKind.Request)
        {
            _runtime.Respond(message, null, new GrainCallException($"{message.Method} on {message.Target} cannot be delivered: {reason}."));
        }
        else
        {
            TransportLog.OneWayDropped(_logger, message.Method?.ToString() ?? "message", message.Target.ToString(), reason);
        }
    }
}
