using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Activation;

internal enum WorkKind : byte
{
    Message,
    Timer,
    Deactivate,
}

/// <summary>One thing an activation does in a turn: run a call, a timer tick, or its own deactivation.</summary>
internal readonly struct WorkItem
{
    private WorkItem(WorkKind kind, Message? message, GrainTimer? timer, DeactivationReason reason, bool interleave)
    {
        Kind = kind;
        Message = message;
        Timer = timer;
        Reason = reason;
        Interleave = interleave;
    }

    public WorkKind Kind { get; }

    public Message? Message { get; }

    public GrainTimer? Timer { get; }

    public DeactivationReason Reason { get; }

    /// <summary>May start while another turn of the activation is awaiting.</summary>
    public bool Interleave { get; }

    public static WorkItem ForMessage(Message message, bool reentrantGrain) =>
        new(WorkKind.Message, message, null, default, reentrantGrain || message.IsAlwaysInterleave);

    public static WorkItem ForTimer(GrainTimer timer, bool reentrantGrain) => new(WorkKind.Timer, null, timer, default, reentrantGrain);

    public static WorkItem ForDeactivation(DeactivationReason reason) => new(WorkKind.Deactivate, null, null, reason, false);
}
