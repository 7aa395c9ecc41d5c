using Realtime.Runtime.Internal.Invocation;

namespace Realtime.Runtime.Internal.Messaging;

internal enum MessageKind : byte
{
    /// <summary>A call whose caller waits for a <see cref="Response"/> with the same correlation id.</summary>
    Request,
    /// <summary>A call nobody waits for.</summary>
    OneWay,
    /// <summary>The result or the exception of a <see cref="Request"/>.</summary>
    Response,
}

/// <summary>
/// The unit the runtime routes: a call to a method of a target identity with its arguments, or the answer to one.
/// In one process arguments travel as references (grain messages are immutable records by convention); the
/// transport between nodes serializes exactly these fields.
/// </summary>
internal sealed class Message
{
    public required MessageKind Kind { get; init; }

    public long CorrelationId { get; init; }

    public GrainId Target { get; init; }

    /// <summary>The called method; null on responses.</summary>
    public GrainMethod? Method { get; init; }

    public object?[] Arguments { get; init; } = [];

    public object? Result { get; init; }

    public Exception? Exception { get; init; }

    /// <summary>The node that sent a request and waits for its response; null for one-way messages sent locally.</summary>
    public string? Origin { get; set; }

    /// <summary>How many times a node passed this message on because it did not host the target.</summary>
    public int ForwardCount { get; set; }

    public bool IsAlwaysInterleave => Method is { AlwaysInterleave: true };

    public override string ToString() => Kind == MessageKind.Response
        ? $"Response #{CorrelationId}"
        : $"{Kind} #{CorrelationId} {Method} to {Target}";
}
