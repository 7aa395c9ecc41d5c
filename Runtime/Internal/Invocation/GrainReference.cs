using System.Reflection;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Invocation;

/// <summary>
/// The object behind every grain and observer reference: a proxy that turns an interface call into a message for
/// <see cref="RuntimeClient"/>. It holds no pointer to the activation, only its identity, so it stays valid wherever
/// the activation lives. Public only because the proxy generator derives from it.
/// </summary>
public class GrainReference : DispatchProxy, IGrainIdentity
{
    private RuntimeClient? _runtime;
    private GrainInterface? _interface;

    /// <inheritdoc />
    public GrainId GrainId { get; private set; }

    internal GrainInterface Interface => _interface!;

    internal static object Create(RuntimeClient runtime, GrainInterface grainInterface, GrainId id)
    {
        var proxy = (GrainReference)Create(grainInterface.InterfaceType, typeof(GrainReference));
        proxy._runtime = runtime;
        proxy._interface = grainInterface;
        proxy.GrainId = id;
        return proxy;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var method = _interface!.GetMethod(targetMethod);
        return method.Send(_runtime!, this, args ?? []);
    }

    /// <inheritdoc />
    public override string ToString() => GrainId.ToString();

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainReference other && other.GrainId == GrainId;

    /// <inheritdoc />
    public override int GetHashCode() => GrainId.GetHashCode();
}

/// <summary>Anything that stands for a grain or observer and knows its identity.</summary>
internal interface IGrainIdentity
{
    GrainId GrainId { get; }
}
