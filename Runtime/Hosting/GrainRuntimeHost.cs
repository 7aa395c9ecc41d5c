using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Realtime.Runtime.Internal;
using Realtime.Runtime.Internal.Activation;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Hosting;

/// <summary>Starts and stops the grain runtime with the host: stopping deactivates every activation and fails calls still waiting.</summary>
internal sealed class GrainRuntimeHost : IHostedService, IRuntimeStatistics, IDisposable
{
    private readonly Catalog _catalog;
    private readonly ActivationCollector _collector;
    private readonly CallbackRegistry _callbacks;
    private readonly GrainRuntimeOptions _options;
    private readonly ILogger<GrainRuntimeHost> _logger;

    public GrainRuntimeHost(
        Catalog catalog,
        ActivationCollector collector,
        CallbackRegistry callbacks,
        IOptions<GrainRuntimeOptions> options,
        ILogger<GrainRuntimeHost> logger)
    {
        _catalog = catalog;
        _collector = collector;
        _callbacks = callbacks;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Number of activations on this node.</summary>
    public int ActivationCount => _catalog.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _collector.Start();
        RuntimeLog.Started(_logger, _options.NodeName);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _collector.Dispose();
        await _catalog.DeactivateAllAsync(_options.DeactivationTimeout);
        _callbacks.FailAll(call => new GrainCallException($"{call.Method} on {call.Target} was abandoned: the grain runtime stopped."));
        RuntimeLog.Stopped(_logger, _options.NodeName, _catalog.Count);
    }

    public void Dispose()
    {
        _collector.Dispose();
        _callbacks.Dispose();
    }
}
