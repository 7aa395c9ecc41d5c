using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary><c>Telemetry:OtlpEndpoint</c>: the gateway pushes its metrics over OTLP, here to a collector the test serves on loopback.</summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private readonly List<(string ContentType, byte[] Body)> _received = [];
    private WebApplication _collector = null!;
    private TestGateway _gateway = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _collector = builder.Build();
        _collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            lock (_received)
            {
                _received.Add((request.ContentType ?? "", body.ToArray()));
            }

            return Results.Ok();
        });
        await _collector.StartAsync().Within("the collector to start");
        _gateway = await TestGateway.StartAsync(
            $"--Telemetry:OtlpEndpoint={_collector.Urls.Single()}/v1/metrics",
            "--Telemetry:OtlpProtocol=http/protobuf",
            "--Telemetry:OtlpExportInterval=00:00:00.5");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task OtlpEndpoint_Configured_TheGatewaysMetricsArePushedToIt()
    {
        await using var client = await _gateway.ConnectAsync("client");
        await client.InvokeAsync("Join", "lobby");

        // The gateway's meter shares its process with other test gateways; its metric names are what matter here.
        await Eventually.True(
            () =>
            {
                lock (_received)
                {
                    return _received.Any(r => r.ContentType.Contains("protobuf", StringComparison.Ordinal)
                        && Encoding.UTF8.GetString(r.Body).Contains("realtime.gateway.connections", StringComparison.Ordinal));
                }
            },
            "the collector receives the gateway's metrics");
    }
}
