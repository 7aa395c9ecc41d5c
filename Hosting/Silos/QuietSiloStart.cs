using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Realtime.Hosting.Silos;

/// <summary>
/// Holds back two Orleans warnings that every silo start of this project logs and that say nothing true about it,
/// until two seconds after the host has started (settings in <c>Logging:LogLevel</c> apply from then on):
/// <list type="bullet">
/// <item>the watchdog's "Participant check thread has not completed for" as long as the machine has been up: Orleans
/// 10.4's platform watchdog thread makes its first check before <c>Watchdog.Start</c> has set the time of the last
/// participant check, so it measures from the machine's boot (<c>src/Orleans.Runtime/Silo/Watchdog.cs</c>);</item>
/// <item>the silo's two notes that it runs without server GC: this project runs workstation GC on purpose (a gateway
/// holds less memory per connection with it; see docs/configuration.md).</item>
/// </list>
/// Only those two categories are held back, only at warning level and below, and only while the silo starts; the
/// watchdog's later checks, which are the ones that find real stalls, are logged as configured.
/// </summary>
internal sealed class QuietSiloStart : ConfigurationProvider, IConfigurationSource
{
    private static readonly string[] Categories = ["Orleans.Runtime.Watchdog", "Orleans.Runtime.Silo"];

    private QuietSiloStart()
    {
        foreach (var category in Categories)
        {
            Data[$"Logging:LogLevel:{category}"] = "Error";
        }
    }

    public static void AddTo(IHostApplicationBuilder builder)
    {
        var quiet = new QuietSiloStart();
        builder.Configuration.Add(quiet);
        builder.Services.AddHostedService(services => new Releaser(quiet, services.GetRequiredService<IHostApplicationLifetime>()));
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    private void Release()
    {
        Data.Clear();
        OnReload();
    }

    private sealed class Releaser(QuietSiloStart quiet, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(() => _ = ReleaseSoonAsync(lifetime.ApplicationStopping));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        private async Task ReleaseSoonAsync(CancellationToken stopping)
        {
            try
            {
                // The watchdog checks once a second: by then its first check, the false one, is over.
                await Task.Delay(TimeSpan.FromSeconds(2), stopping);
            }
            catch (OperationCanceledException)
            {
                // Stopping: release now.
            }

            quiet.Release();
        }
    }
}
