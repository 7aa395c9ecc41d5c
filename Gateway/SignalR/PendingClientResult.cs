namespace Realtime.Gateway.SignalR;

/// <summary>A call to a client that waits for the client's answer (SignalR client results).</summary>
internal sealed class PendingClientResult(string connectionId, Type type)
{
    private readonly TaskCompletionSource<object?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string ConnectionId { get; } = connectionId;

    /// <summary>The type the answer is deserialized into.</summary>
    public Type Type { get; } = type;

    public Task<object?> Task => _answer.Task;

    public void Complete(object? result) => _answer.TrySetResult(result);

    public void Fail(Exception exception) => _answer.TrySetException(exception);

    public void Cancel() => _answer.TrySetCanceled();
}
