using System.Collections.Concurrent;

namespace Realtime.Gateway.Http;

/// <summary>
/// The files the gateway library serves itself, built into its assembly so that an application that references the
/// package serves them without copying anything: the admin page, and the SignalR and socket.io browser clients, from
/// their npm packages.
/// </summary>
public static class BrowserAssets
{
    private const string Prefix = "Realtime.Gateway.Assets.";
    private static readonly ConcurrentDictionary<string, byte[]> Loaded = new(StringComparer.Ordinal);

    /// <summary>The SignalR browser client (<c>@microsoft/signalr</c>).</summary>
    public const string SignalRClient = "signalr.min.js";

    /// <summary>SignalR's MessagePack protocol for the browser client (<c>@microsoft/signalr-protocol-msgpack</c>).</summary>
    public const string SignalRMessagePackClient = "signalr-protocol-msgpack.min.js";

    /// <summary>The socket.io browser client (<c>socket.io-client</c>).</summary>
    public const string SocketIOClient = "socket.io.min.js";

    /// <summary>
    /// Maps the browser clients at <c>{prefix}/signalr/signalr.min.js</c>,
    /// <c>{prefix}/signalr/signalr-protocol-msgpack.min.js</c> and <c>{prefix}/socket.io/socket.io.min.js</c>, for an
    /// application's own pages.
    /// </summary>
    public static IEndpointRouteBuilder MapRealtimeBrowserClients(this IEndpointRouteBuilder endpoints, string prefix = "/lib")
    {
        prefix = prefix.TrimEnd('/');
        endpoints.MapGet($"{prefix}/signalr/{SignalRClient}", Script(SignalRClient));
        endpoints.MapGet($"{prefix}/signalr/{SignalRMessagePackClient}", Script(SignalRMessagePackClient));
        endpoints.MapGet($"{prefix}/socket.io/{SocketIOClient}", Script(SocketIOClient));
        return endpoints;
    }

    /// <summary>A file of the assembly's assets, by name.</summary>
    internal static byte[] Get(string name) => Loaded.GetOrAdd(name, static name =>
    {
        using var stream = typeof(BrowserAssets).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new InvalidOperationException($"The gateway library was built without {name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>A request handler that answers with a script of the assets, cached by browsers for an hour.</summary>
    internal static RequestDelegate Script(string name) => File(name, "text/javascript; charset=utf-8");

    /// <summary>A request handler that answers with a file of the assets, cached by browsers for an hour.</summary>
    internal static RequestDelegate File(string name, string contentType)
    {
        var bytes = Get(name);
        return context =>
        {
            context.Response.ContentType = contentType;
            context.Response.Headers.CacheControl = "public, max-age=3600";
            context.Response.ContentLength = bytes.Length;
            return context.Response.Body.WriteAsync(bytes).AsTask();
        };
    }
}
