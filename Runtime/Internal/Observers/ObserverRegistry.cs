using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Observers;

/// <summary>
/// Objects of this process that grains can call (gateways, services). Their ids name this node, so that in a cluster
/// a call to an observer can be routed back to the process that created it.
/// </summary>
internal sealed class ObserverRegistry(RuntimeClient runtime, NodeIdentity identity, ILogger<ObserverRegistry> logger)
{
    public const string GrainType = "observer";

    private readonly ConcurrentDictionary<string, object> _observers = new(StringComparer.Ordinal);

    public GrainId Register(object observer)
    {
        var key = $"{identity.Name}/{Guid.NewGuid():N}";
        _observers[key] = observer;
        return new GrainId(GrainType, key);
    }

    public void Unregister(GrainId id) => _observers.TryRemove(id.Key, out _);

    /// <summary>The node that hosts an observer: the first part of its key.</summary>
    public static string NodeOf(GrainId id)
    {
        var slash = id.Key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? id.Key : id.Key[..slash];
    }

    public void Deliver(Message message)
    {
        if (!_observers.TryGetValue(message.Target.Key, out var observer))
        {
            RuntimeLog.ObserverNotFound(logger, message.Target, message.Method!.ToString());
            runtime.Respond(message, null, new GrainCallException($"Observer {message.Target} does not exist (any more)."));
            return;
        }

        ValueTask<object?> pending;
        try
        {
            pending = message.Method!.Invoke(observer, message.Arguments);
        }
        catch (Exception ex)
        {
            Fail(message, ex);
            return;
        }
        finally
        {
            if (observer is IBurstAwareObserver burstAware)
            {
                DeliveryBurst.Delivered(burstAware, logger);
            }
        }

        if (pending.IsCompletedSuccessfully)
        {
            runtime.Respond(message, pending.Result, null);
        }
        else
        {
            _ = AwaitAsync(message, pending);
        }
    }

    private async Task AwaitAsync(Message message, ValueTask<object?> pending)
    {
        try
        {
            runtime.Respond(message, await pending, null);
        }
        catch (Exception ex)
        {
            Fail(message, ex);
        }
    }

    private void Fail(Message message, Exception ex)
    {
        if (message.Kind == MessageKind.OneWay)
        {
            RuntimeLog.OneWayCallFailed(logger, message.Method!.ToString(), message.Target, ex);
        }

        runtime.Respond(message, null, ex);
    }
}
