using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// The little of the Kubernetes API that Orleans' Kubernetes hosting uses, on loopback: read a pod, list the pods of a
/// label selector, and watch them (newline-delimited watch events on a response that stays open). Tests start silos
/// with <see cref="Environment"/> (a kubeconfig pointing here, and the pod's name and namespace), then delete a pod
/// with <see cref="DeletePod"/>, which every open watch hears.
/// </summary>
public sealed class FakeKubernetesApi : IAsyncDisposable
{
    public const string Namespace = "realtime-test";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Dictionary<string, string>> _pods = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<int, Watch> _watches = new();
    private readonly string _kubeconfig;
    private int _nextWatch;

    private FakeKubernetesApi(WebApplication app, string kubeconfig)
    {
        _app = app;
        _kubeconfig = kubeconfig;
    }

    /// <summary>How many watches are open now.</summary>
    public int OpenWatches => _watches.Count;

    public static async Task<FakeKubernetesApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var folder = Directory.CreateTempSubdirectory("realtime-kube-").FullName;
        var api = new FakeKubernetesApi(app, Path.Combine(folder, "config"));
        app.MapGet($"/api/v1/namespaces/{Namespace}/pods/{{name}}", (string name) =>
            api._pods.TryGetValue(name, out var labels) ? Results.Json(Pod(name, labels)) : Results.NotFound());
        app.MapGet($"/api/v1/namespaces/{Namespace}/pods", api.ListOrWatchAsync);
        await app.StartAsync().Within("the fake Kubernetes API to start");
        await File.WriteAllTextAsync(api._kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {app.Urls.Single()}
            users:
            - name: fake
              user:
                token: fake
            contexts:
            - name: fake
              context:
                cluster: fake
                user: fake
                namespace: {Namespace}
            current-context: fake
            """);
        return api;
    }

    /// <summary>Adds a pod of the cluster with these ids, as the Deployment would create it.</summary>
    public void AddPod(string name, string clusterId, string serviceId) =>
        _pods[name] = new Dictionary<string, string> { ["orleans/clusterId"] = clusterId, ["orleans/serviceId"] = serviceId };

    /// <summary>Deletes a pod: every open watch hears it.</summary>
    public void DeletePod(string name)
    {
        if (_pods.TryRemove(name, out var labels))
        {
            foreach (var (_, watch) in _watches)
            {
                watch.Events.Add(new { type = "DELETED", @object = Pod(name, labels) });
            }
        }
    }

    /// <summary>What a silo process that is <paramref name="pod"/> needs in its environment.</summary>
    public IDictionary<string, string> Environment(string pod) => new Dictionary<string, string>
    {
        ["KUBECONFIG"] = _kubeconfig,
        ["POD_NAME"] = pod,
        ["POD_NAMESPACE"] = Namespace,
        ["POD_IP"] = "127.0.0.1",
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, watch) in _watches)
        {
            watch.Events.CompleteAdding();
        }

        await _app.StopAsync().Within("the fake Kubernetes API to stop", TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(_kubeconfig)!, recursive: true);
    }

    private async Task ListOrWatchAsync(HttpContext context)
    {
        var selector = Labels(context.Request.Query["labelSelector"]);
        bool Selected(Dictionary<string, string> labels) => selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
        if (context.Request.Query["watch"] != "true")
        {
            await context.Response.WriteAsJsonAsync(new
            {
                apiVersion = "v1",
                kind = "PodList",
                metadata = new { resourceVersion = "1" },
                items = _pods.Where(p => Selected(p.Value)).Select(p => Pod(p.Key, p.Value)).ToArray(),
            });
            return;
        }

        var id = Interlocked.Increment(ref _nextWatch);
        using var watch = new Watch();
        _watches[id] = watch;
        try
        {
            context.Response.ContentType = "application/json";
            await context.Response.StartAsync();
            foreach (var (name, labels) in _pods.Where(p => Selected(p.Value)))
            {
                await WriteEventAsync(context, new { type = "ADDED", @object = Pod(name, labels) });
            }

            foreach (var change in watch.Events.GetConsumingEnumerable(context.RequestAborted))
            {
                await WriteEventAsync(context, change);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _watches.TryRemove(id, out _);
        }
    }

    private static async Task WriteEventAsync(HttpContext context, object change)
    {
        await context.Response.WriteAsync(JsonSerializer.Serialize(change) + "\n", Encoding.UTF8);
        await context.Response.Body.FlushAsync();
    }

    private static Dictionary<string, string> Labels(string? selector) =>
        (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    private static object Pod(string name, Dictionary<string, string> labels) => new
    {
        apiVersion = "v1",
        kind = "Pod",
        metadata = new { name, @namespace = Namespace, labels, resourceVersion = "1" },
        status = new { phase = "Running", podIP = "127.0.0.1" },
    };

    private sealed class Watch : IDisposable
    {
        public System.Collections.Concurrent.BlockingCollection<object> Events { get; } = [];

        public void Dispose() => Events.Dispose();
    }
}
