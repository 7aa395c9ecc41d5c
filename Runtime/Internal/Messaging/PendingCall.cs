using Realtime.Runtime.Internal.Invocation;

namespace Realtime.Runtime.Internal.Messaging;

/// <summary>A request waiting for its response.</summary>
internal abstract class PendingCall(GrainId target, GrainMethod method, DateTimeOffset sentAt)
{
    public GrainId Target { get; } = target;

    public GrainMethod Method { get; } = method;

    public DateTimeOffset SentAt { get; } = sentAt;

    /// <summary>The node the request went to, when it left this process.</summary>
    public string? SentTo { get; set; }

    public abstract void Complete(object? result);

    public abstract void Fail(Exception exception);
}

internal sealed class PendingCall<T>(GrainId target, GrainMethod method, DateTimeOffset sentAt) : PendingCall(target, method, sentAt)
{
    // Continuations never run inline on the thread that completes the call (often a grain's scheduler).
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override void Complete(object? result)
    {
        if (result is T typed)
        {
            _completion.TrySetResult(typed);
        }
        else if (result is null && default(T) is null)
        {
            _completion.TrySetResult(default!);
        }
        else
        {
            _completion.TrySetException(new GrainCallException($"{Method} on {Target} returned {result?.GetType().Name ?? "null"} where {typeof(T).Name} was expected."));
        }
    }

    public override void Fail(Exception exception) => _completion.TrySetException(exception);
}
