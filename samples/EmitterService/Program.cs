using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Client.Emitting;
using Realtime.Client.Hosting;
using Realtime.Client.Operations;
using Realtime.Wire;

// An internal service that never holds a WebSocket: it joins the cluster as a client, reaches the connections of the
// RealtimeHub through the grains, and leaves. Settings (--Cluster:Redis=host:port and the others) come first;
// the command follows:
//
//   emit-namespace <namespace> <event> <json>         emit-room <namespace> <room> <event> <json>
//   emit-connection <connectionId> <event> <json>     emit-user <userId> <event> <json>
//   presence <namespace> [room]                       join <connectionId> <room>
//   leave <connectionId> <room>                       disconnect <connectionId>
//   disconnect-user <userId>                          disconnect-room <namespace> <room>
//   invoke <connectionId> <method> <timeoutSeconds> [<json argument> ...]   (asks the client and prints its answer)
//   server-emit <event> <json>                        (to every gateway: server-to-server)
// Settings are the leading arguments that start with "--"; from the command on, every argument is the command's, so a
// connection id that starts with "--" (SignalR's ids may) is not taken for a setting.
var commandStart = Array.FindIndex(args, a => !a.StartsWith("--", StringComparison.Ordinal));
var settings = commandStart < 0 ? args : args[..commandStart];
var command = commandStart < 0 ? [] : args[commandStart..];
if (command.Length == 0)
{
    Console.Error.WriteLine("usage: Realtime.Samples.Emitter [--Setting=value ...] <command> <arguments>");
    return 2;
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = settings, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace); // stdout carries only the result
builder.Configuration["Cluster:ConnectTimeout"] ??= "00:00:15"; // a command gives up; a long-running service keeps trying
builder.Services.AddRealtimeClusterClient(builder.Configuration);
using var host = builder.Build();

// Starting connects the Orleans client to the cluster, trying for Cluster:ConnectTimeout (15 s unless set).
await host.StartAsync();
try
{
    var emitter = host.Services.GetRequiredService<IRealtimeEmitter>();
    var cluster = host.Services.GetRequiredService<IRealtimeCluster>();
    object? result = command switch
    {
        ["emit-namespace", var ns, var name, var json] => await Emit(emitter.All(ns), name, json),
        ["emit-room", var ns, var room, var name, var json] => await Emit(emitter.Room(ns, room), name, json),
        ["emit-connection", var id, var name, var json] => await Emit(emitter.Connection(id), name, json),
        ["emit-user", var user, var name, var json] => await Emit(emitter.User(user), name, json),
        ["presence", var ns] => await cluster.NamespacePresenceAsync(ns, withData: true),
        ["presence", var ns, var room] => await cluster.RoomPresenceAsync(ns, room, withData: true),
        ["join", var id, var room] => await cluster.JoinAsync(id, room),
        ["leave", var id, var room] => await cluster.LeaveAsync(id, room),
        ["disconnect", var id] => await cluster.DisconnectAsync(id),
        ["disconnect-user", var user] => await cluster.DisconnectUserAsync(user),
        ["disconnect-room", var ns, var room] => await cluster.DisconnectRoomAsync(ns, room),
        ["server-emit", var name, var json] => await cluster.ServerEmitAsync(name, JsonSerializer.Deserialize<JsonElement>(json)),
        ["invoke", var id, var method, var seconds, .. var json] => await cluster.InvokeClientAsync(
            id,
            method,
            [.. json.Select(j => (object?)JsonSerializer.Deserialize<JsonElement>(j))],
            TimeSpan.FromSeconds(double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture))),
        _ => throw new ArgumentException($"Unknown command or wrong arguments: {string.Join(' ', command)}"),
    };

    Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    return 0;
}
catch (Exception ex) when (ex is OrleansException or TimeoutException or ArgumentException or MessageTooLargeException or JsonException or InvalidOperationException or Microsoft.AspNetCore.SignalR.HubException)
{
    Console.Error.WriteLine($"{ex.GetType().Name}: {ex.Message}");
    return 1;
}
finally
{
    await host.StopAsync();
}

static async Task<object> Emit(IRealtimeEmitTarget target, string eventName, string json)
{
    await target.EmitAsync(eventName, JsonSerializer.Deserialize<JsonElement>(json));
    return "sent";
}
