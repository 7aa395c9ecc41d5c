namespace Realtime.Runtime;

/// <summary>
/// A grain class that keeps state per node (members grouped by gateway, say) implements this; when nodes leave the
/// cluster or are declared dead, each local activation of it is told, as a turn of its own.
/// </summary>
public interface IClusterNodeAware
{
    Task OnNodesDeparted(IReadOnlyList<string> nodes);
}
