namespace Realtime.Runtime;

/// <summary>
/// The identity of a grain: its grain type and a string key. One activation per identity exists in the cluster.
/// </summary>
/// <param name="Type">The grain type name, taken from <see cref="GrainTypeAttribute"/> or derived from the interface name.</param>
/// <param name="Key">The grain's key.</param>
public readonly record struct GrainId(string Type, string Key)
{
    /// <inheritdoc />
    public override string ToString() => $"{Type}({Key})";
}
