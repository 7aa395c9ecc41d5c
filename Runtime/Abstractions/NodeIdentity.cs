namespace Realtime.Runtime;

/// <summary>What a node of the cluster is.</summary>
public enum NodeRole : byte
{
    /// <summary>Hosts grains.</summary>
    Silo = 0,
    /// <summary>Calls grains and hosts observers (a gateway, an internal service).</summary>
    Client = 1,
}

/// <summary>
/// Who this process is among the nodes: a name unique to this process's lifetime and its role. A silo's name is
/// <c>host:port@generation</c>, a client's <c>name@generation</c>; the generation is the start time, so a restarted
/// process is a new node.
/// </summary>
public sealed record NodeIdentity(string Name, NodeRole Role);
