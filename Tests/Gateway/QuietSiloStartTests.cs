using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Realtime.Hosting.Silos;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>
/// The two Orleans categories held back while a silo starts come back at their configured level once it has started:
/// the watchdog's later warnings, the ones that find real stalls, are logged.
/// </summary>
public sealed class QuietSiloStartTests
{
    [Fact]
    public async Task TheWatchdogsWarnings_AreHeldBackWhileTheHostStarts_AndLoggedAfter()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new NullProvider());
        QuietSiloStart.AddTo(builder);
        using var host = builder.Build();
        var watchdog = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orleans.Runtime.Watchdog");
        var silo = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orleans.Runtime.Silo");
        var other = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Orleans.Runtime.Catalog");

        Assert.False(watchdog.IsEnabled(LogLevel.Warning), "held back while the host starts");
        Assert.False(silo.IsEnabled(LogLevel.Warning), "held back while the host starts");
        Assert.True(silo.IsEnabled(LogLevel.Error), "errors are never held back");
        Assert.True(other.IsEnabled(LogLevel.Warning), "other categories are not touched");

        await host.StartAsync().Within("the host to start");
        await Eventually.True(() => watchdog.IsEnabled(LogLevel.Warning) && silo.IsEnabled(LogLevel.Warning), "the held-back categories to come back", TimeSpan.FromSeconds(15));
        await host.StopAsync().Within("the host to stop");
    }

    /// <summary>Takes every level it is given, writes nothing: what the factory's filter lets through is what is seen.</summary>
    private sealed class NullProvider : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }
}
