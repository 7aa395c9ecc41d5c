using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Activation;

internal enum WorkKind : byte
{
    Message,
    Timer,
    Deactivate,
    Callback,
}

/// <summary>One thing an activation does in a turn: run a call, a timer tick, or its own deactivation.</summary>
internal readonly struct WorkItem
{
    private WorkItem(WorkKind kind, Message? message, GrainTimer? timer, DeactivationReason reason, bool interleave, Func<Grain, Task>? callback = null)
    {
        Callback = callback;
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

    /// <summary>Work the runtime itself asks the grain to do (telling it that nodes departed).</summary>
    public Func<Grain, Task>? Callback { get; }

    public static WorkItem ForCallback(Func<Grain, Task> callback) => new(WorkKind.Callback, null, null, default, false, callback);

    public static WorkItem ForMessage(Message message, bool reentrantGrain) =>
        new(WorkKind.Message, message, null, default, reentrantGrain || message.IsAlwaysInterleave);

    public static WorkItem ForTimer(GrainTimer timer, bool reentrantGrain) => new(WorkKind.Timer, null, timer, default, reentrantGrain);

    public static WorkItem ForDeactivation(DeactivationReason reason) => new(WorkKind.Deactivate, null, null, reason, false);
}
