using System.Globalization;
using System.Text.RegularExpressions;

namespace Realtime.AppHost;

/// <summary>
/// nginx round robin in front of the gateways, with the compose file's own configuration
/// (<c>deploy/nginx/nginx.conf</c>), its upstreams and listen address turned to loopback: when nginx is on the path.
/// </summary>
internal static partial class LoadBalancer
{
    public static void AddIfInstalled(IDistributedApplicationBuilder builder, int port, IReadOnlyList<(IResourceBuilder<ProjectResource> Gateway, int Port)> gateways)
    {
        if (!OnPath("nginx"))
        {
            Console.WriteLine("nginx is not on the path: no load balancer; open a gateway directly.");
            return;
        }

        var template = File.ReadAllText(Path.Combine(builder.AppHostDirectory, "..", "deploy", "nginx", "nginx.conf"));
        var upstreams = string.Concat(gateways.Select(g => $"    server 127.0.0.1:{g.Port.ToString(CultureInfo.InvariantCulture)};\n"));
        var config = Upstreams().Replace(template, $"upstream gateways {{\n{upstreams}  }}", 1)
            .Replace("listen 80;", $"listen 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};", StringComparison.Ordinal);
        var prefix = Path.Combine(Path.GetTempPath(), $"realtime-apphost-nginx-{port.ToString(CultureInfo.InvariantCulture)}");
        Directory.CreateDirectory(prefix);
        var file = Path.Combine(prefix, "nginx.conf");
        File.WriteAllText(file, config);

        var nginx = builder.AddExecutable("loadbalancer", "nginx", prefix, "-p", prefix, "-c", file, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log stderr warn;")
            .WithHttpEndpoint(port: port, name: "http", isProxied: false);
        foreach (var (gateway, _) in gateways)
        {
            nginx.WaitFor(gateway);
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(folder => File.Exists(Path.Combine(folder, program)));

    [GeneratedRegex(@"upstream gateways \{[^}]*\}")]
    private static partial Regex Upstreams();
}
