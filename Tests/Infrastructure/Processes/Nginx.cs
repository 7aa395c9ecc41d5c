using System.Globalization;

namespace Realtime.Tests.Infrastructure.Processes;

/// <summary>
/// nginx run as a local process with the compose file's own configuration (<c>deploy/nginx/nginx.conf</c>): only
/// the upstream addresses and the listen port are replaced with loopback ones.
/// </summary>
public static class Nginx
{
    public static async Task<NodeProcess> StartAsync(IReadOnlyList<NodeProcess> gateways)
    {
        var config = await File.ReadAllTextAsync(Path.Combine(Build.RepositoryRoot, "deploy", "nginx", "nginx.conf"));
        for (var i = 0; i < gateways.Count; i++)
        {
            config = Replace(config, $"server gateway{i + 1}:8080;", $"server 127.0.0.1:{gateways[i].Port};");
        }

        var port = NodeProcess.FreePort();
        config = Replace(config, "listen 80;", $"listen 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};");
        var prefix = Directory.CreateTempSubdirectory("realtime-nginx-").FullName;
        var file = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(file, config);

        var nginx = NodeProcess.Start("nginx", "nginx", ["-p", prefix, "-c", file, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log stderr warn;"], port);
        await Eventually.True(() => NodeProcess.CanConnect(port) || nginx.HasExited, "nginx accepts connections", TimeSpan.FromSeconds(15));
        return nginx.HasExited ? throw new InvalidOperationException($"nginx exited:{Environment.NewLine}{nginx.Output}") : nginx;
    }

    private static string Replace(string config, string from, string to) =>
        config.Contains(from, StringComparison.Ordinal)
            ? config.Replace(from, to, StringComparison.Ordinal)
            : throw new InvalidOperationException($"deploy/nginx/nginx.conf no longer has '{from}'.");
}
