using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Runtime;
using Realtime.Runtime.Hosting;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Runtime;

/// <summary>A started single-node grain runtime with the test grains, on a real or a manual clock.</summary>
public sealed class TestRuntime : IAsyncDisposable
{
    private readonly IHost _host;

    private TestRuntime(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    public GrainProbe Probe => _host.Services.GetRequiredService<GrainProbe>();

    public IServiceProvider Services => _host.Services;

    public static async Task<TestRuntime> StartAsync(Action<GrainRuntimeOptions>? configure = null, TimeProvider? time = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<GrainProbe>();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddGrainRuntime(runtime =>
        {
            runtime.AddGrain<ITestGrain, TestGrain>()
                .AddGrain<IReentrantTestGrain, ReentrantTestGrain>()
                .AddGrain<INonReentrantPingGrain, NonReentrantPingGrain>()
                .AddGrain<IInterleavingTestGrain, InterleavingTestGrain>()
                .AddGrain<IFailingActivationGrain, FailingActivationGrain>();
            if (configure is not null)
            {
                runtime.Configure(configure);
            }
        });

        var host = builder.Build();
        await host.StartAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return new TestRuntime(host);
    }

    public async ValueTask DisposeAsync()
    {
        Probe.Gate.TrySetResult();
        await _host.StopAsync().WaitAsync(TimeSpan.FromSeconds(20));
        _host.Dispose();
    }
}
