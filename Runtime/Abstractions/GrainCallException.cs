namespace Realtime.Runtime;

/// <summary>A call could not be delivered or run for a reason of the runtime, not of the grain's own code.</summary>
public sealed class GrainCallException : Exception
{
    public GrainCallException(string message)
        : base(message)
    {
    }

    public GrainCallException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
