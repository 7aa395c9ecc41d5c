namespace Realtime.Runtime;

/// <summary>Counters of this node's grain runtime.</summary>
public interface IRuntimeStatistics
{
    /// <summary>Activations hosted by this node now.</summary>
    int ActivationCount { get; }
}
