using System.Diagnostics;

namespace Realtime.Gateway.Observability;

/// <summary>
/// The gateway's spans (activity source <c>Realtime.Gateway</c>): a socket.io event's handling, and each delivery
/// a group pushes to this gateway. With Orleans' activity propagation on (<c>Telemetry:Tracing</c>) they are part of
/// the trace of the message that caused them: the hub invocation or socket.io event on the sender's gateway, the grain
/// calls, then the delivery on each gateway. Nothing is made while no tracer listens.
/// </summary>
internal static class GatewayTracing
{
    public const string SourceName = "Realtime.Gateway";

    public static readonly ActivitySource Source = new(SourceName);
}
