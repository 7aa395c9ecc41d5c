using Microsoft.Extensions.DependencyInjection;
using Realtime.Runtime.Internal.Invocation;

namespace Realtime.Runtime.Internal.Messaging;

/// <summary>Turns calls on references into messages, and responses back into completed tasks.</summary>
internal sealed class RuntimeClient(CallbackRegistry callbacks, IServiceProvider services, NodeIdentity identity)
{
    // Resolved on first use: the router depends on components that in turn send through this client.
    private IMessageRouter? _router;

    private IMessageRouter Router => _router ??= services.GetRequiredService<IMessageRouter>();

    public Task<T> SendRequest<T>(GrainReference target, GrainMethod method, object?[] arguments)
    {
        var call = new PendingCall<T>(target.GrainId, method, callbacks.Now);
        var id = callbacks.Register(call);
        Router.Route(new Message
        {
            Kind = MessageKind.Request,
            CorrelationId = id,
            Origin = identity.Name,
            Target = target.GrainId,
            Method = method,
            Arguments = arguments,
        });
        return call.Task;
    }

    public void SendOneWay(GrainReference target, GrainMethod method, object?[] arguments) =>
        Router.Route(new Message { Kind = MessageKind.OneWay, Target = target.GrainId, Method = method, Arguments = arguments });

    /// <summary>Answers <paramref name="request"/>; does nothing for one-way messages.</summary>
    public void Respond(Message request, object? result, Exception? exception)
    {
        if (request.Kind != MessageKind.Request)
        {
            return;
        }

        Router.Route(new Message
        {
            Kind = MessageKind.Response,
            CorrelationId = request.CorrelationId,
            Origin = request.Origin,
            ForwardCount = request.ForwardCount,
            Target = request.Target,
            Method = request.Method,
            Result = result,
            Exception = exception,
        });
    }

    public void ReceiveResponse(Message response) => callbacks.Complete(response.CorrelationId, response.Result, response.Exception);
}
