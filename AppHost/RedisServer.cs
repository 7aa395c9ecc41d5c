using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Realtime.AppHost;

/// <summary>
/// Redis for the membership table: Aspire's Redis container where a container runtime answers, and otherwise
/// <c>redis-server</c> from the path, run as a process (a laptop without Docker, this project's CI).
/// </summary>
internal static class RedisServer
{
    public static IResourceBuilder<IResourceWithConnectionString> Add(IDistributedApplicationBuilder builder, string name, int port)
    {
        if (ContainerRuntimeAnswers())
        {
            return builder.AddRedis(name, port);
        }

        Console.WriteLine($"No container runtime answers (docker or podman): {name} runs as redis-server on port {port} instead of a container.");
        var data = Path.Combine(Path.GetTempPath(), $"realtime-apphost-redis-{port}");
        Directory.CreateDirectory(data);
        var check = $"{name}-ping";
        builder.Services.AddHealthChecks().AddCheck(check, new PingCheck(port));

        // An append-only file, as the membership table needs (docs/operations.md), in a folder of the app host's own.
        var server = new RedisServerResource(name, data, port);
        return builder.AddResource(server)
            .WithArgs("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", data)
            .WithEndpoint(port: port, name: "tcp", scheme: "tcp", isProxied: false)
            .WithHealthCheck(check);
    }

    /// <summary>Whether <c>docker info</c> or <c>podman info</c> succeeds: a client alone, without its engine, does not count.</summary>
    private static bool ContainerRuntimeAnswers()
    {
        foreach (var runtime in new[] { "docker", "podman" })
        {
            try
            {
                using var info = Process.Start(new ProcessStartInfo(runtime, "info") { RedirectStandardOutput = true, RedirectStandardError = true });
                if (info is null)
                {
                    continue;
                }

                info.StandardOutput.ReadToEndAsync();
                info.StandardError.ReadToEndAsync();
                if (info.WaitForExit(TimeSpan.FromSeconds(10)) && info.ExitCode == 0)
                {
                    return true;
                }

                info.Kill();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed.
            }
        }

        return false;
    }

    private sealed class RedisServerResource(string name, string workingDirectory, int port)
        : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
    {
        public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"127.0.0.1:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    /// <summary>Healthy once the server answers PING.</summary>
    private sealed class PingCheck(int port) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, cancellationToken);
                return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("redis-server did not answer PONG");
            }
            catch (SocketException ex)
            {
                return HealthCheckResult.Unhealthy("redis-server does not accept connections yet", ex);
            }
        }
    }
}
