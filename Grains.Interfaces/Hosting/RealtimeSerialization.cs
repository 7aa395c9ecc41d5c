using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Realtime.Contracts.Hosting;

/// <summary>Registers the serializers the contracts need on every node and client of the cluster.</summary>
public static class RealtimeSerialization
{
    /// <summary>
    /// The serializers the realtime contracts need beyond Orleans' own: System.Text.Json values (<c>JsonElement</c>)
    /// that session data, client results and server events carry. Silos and every client of the cluster add it.
    /// </summary>
    public static IServiceCollection AddRealtimeSerialization(this IServiceCollection services) =>
        services.AddSerializer(serializer => serializer.AddJsonSerializer(isSupported: static _ => false));
}
