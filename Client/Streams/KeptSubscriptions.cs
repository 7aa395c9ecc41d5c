using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Realtime.Client.Hosting;

namespace Realtime.Client.Streams;

/// <summary>
/// Stream subscriptions that this process keeps, whatever happens to the silos.
/// </summary>
/// <remarks>
/// Orleans keeps a subscription in its pub-sub (grain storage), so it outlives any silo, but it also removes one for
/// good when a delivery finds the subscriber unreachable: an Orleans client whose gateways have all died, and that has
/// not yet connected to a live one, loses its subscriptions with only a warning in a silo's log. A kept subscription
/// is checked every <see cref="RealtimeClientOptions.SubscriptionCheckPeriod"/>, and at once when this client loses
/// a gateway connection; when the pub-sub no longer holds it, it is made again. Events sent between the removal and
/// the new subscription are not delivered: the memory streams cannot rewind.
/// </remarks>
public interface IKeptSubscriptions
{
    /// <summary>
    /// Subscribes <paramref name="onNext"/> to <paramref name="stream"/> (throwing when the cluster refuses), and keeps
    /// the subscription until the returned object is disposed, which gives it up.
    /// </summary>
    Task<IAsyncDisposable> SubscribeAsync<T>(IAsyncStream<T> stream, Func<T, StreamSequenceToken?, Task> onNext, CancellationToken cancellationToken = default);
}

/// <summary>The kept subscriptions of this process, and the <c>Realtime.Client</c> meter that counts renewals.</summary>
internal sealed partial class KeptSubscriptions : IKeptSubscriptions, IDisposable
{
    /// <summary>How soon a check that failed (the cluster did not answer) is tried again, at most.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<IKept, byte> _kept = new();
    private readonly TimeSpan _period;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _resubscriptions;

    public KeptSubscriptions(IOptions<RealtimeClientOptions> options, IMeterFactory meters, ILogger<KeptSubscriptions> logger, TimeProvider? time = null)
    {
        _period = options.Value.SubscriptionCheckPeriod;
        _time = time ?? TimeProvider.System;
        _logger = logger;
        _resubscriptions = meters.Create(RealtimeClientTelemetry.MeterName).CreateCounter<long>(
            "realtime.client.stream.resubscriptions",
            "{subscription}",
            "Kept stream subscriptions made again after the cluster's pub-sub removed them, by stream namespace.");
    }

    public async Task<IAsyncDisposable> SubscribeAsync<T>(IAsyncStream<T> stream, Func<T, StreamSequenceToken?, Task> onNext, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(onNext);
        var handle = await stream.SubscribeAsync(onNext).WaitAsync(cancellationToken);
        var kept = new Kept<T>(this, stream, onNext, handle);
        _kept.TryAdd(kept, 0);
        kept.Start();
        return kept;
    }

    /// <summary>Checks every kept subscription now (this client lost a gateway connection).</summary>
    public void CheckNow()
    {
        foreach (var kept in _kept.Keys)
        {
            kept.Wake();
        }
    }

    public void Dispose()
    {
        foreach (var kept in _kept.Keys)
        {
            kept.Stop();
        }
    }

    private interface IKept
    {
        void Wake();

        void Stop();
    }

    private sealed class Kept<T>(KeptSubscriptions owner, IAsyncStream<T> stream, Func<T, StreamSequenceToken?, Task> onNext, StreamSubscriptionHandle<T> handle)
        : IKept, IAsyncDisposable
    {
        private readonly Channel<byte> _wake = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        private readonly CancellationTokenSource _stop = new();
        private StreamSubscriptionHandle<T> _handle = handle;
        private Task _checking = Task.CompletedTask;
        private int _disposed;

        public void Start() => _checking = CheckLoopAsync(_stop.Token);

        public void Wake() => _wake.Writer.TryWrite(0);

        public void Stop() => _stop.Cancel();

        private async Task CheckLoopAsync(CancellationToken stop)
        {
            var wait = owner._period;
            while (!stop.IsCancellationRequested)
            {
                using (var waiting = CancellationTokenSource.CreateLinkedTokenSource(stop))
                {
                    var woken = _wake.Reader.WaitToReadAsync(waiting.Token).AsTask();
                    await Task.WhenAny(woken, Task.Delay(wait, owner._time, waiting.Token)).ConfigureAwait(false);
                    waiting.Cancel();
                    await ((Task)woken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                while (_wake.Reader.TryRead(out _))
                {
                }

                if (stop.IsCancellationRequested)
                {
                    return;
                }

                wait = await CheckAsync().ConfigureAwait(false) ? owner._period : TimeSpan.FromTicks(Math.Min(owner._period.Ticks, RetryDelay.Ticks));
            }
        }

        /// <summary>Makes the subscription again if the pub-sub lost it; false when the cluster did not answer.</summary>
        private async Task<bool> CheckAsync()
        {
            try
            {
                var held = await stream.GetAllSubscriptionHandles().ConfigureAwait(false);
                if (held.Any(h => h.HandleId == _handle.HandleId))
                {
                    return true;
                }
            }
            catch (Exception ex)
            {
                CheckFailed(owner._logger, stream.StreamId.ToString(), ex);
                return false;
            }

            var lost = _handle;
            try
            {
                // Drops the local observer (the pub-sub has nothing left to remove), so that the old subscription
                // cannot deliver as well if it ever came back.
                await lost.UnsubscribeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                CheckFailed(owner._logger, stream.StreamId.ToString(), ex);
            }

            try
            {
                _handle = await stream.SubscribeAsync(onNext).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                ResubscribeFailed(owner._logger, stream.StreamId.ToString(), ex);
                return false;
            }

            owner._resubscriptions.Add(1, new TagList { { "stream", stream.StreamId.GetNamespace() } });
            Resubscribed(owner._logger, stream.StreamId.ToString(), lost.HandleId, _handle.HandleId);
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            owner._kept.TryRemove(this, out _);
            await _stop.CancelAsync().ConfigureAwait(false);
            await _checking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await _handle.UnsubscribeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Checking the kept subscription to stream {Stream} failed; trying again.")]
    private static partial void CheckFailed(ILogger logger, string stream, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "The cluster's pub-sub no longer held subscription {Lost} to stream {Stream} (a delivery found this client unreachable); subscribed again as {Handle}. Events sent in between were not delivered.")]
    private static partial void Resubscribed(ILogger logger, string stream, Guid lost, Guid handle);

    [LoggerMessage(3, LogLevel.Warning, "The kept subscription to stream {Stream} was lost and subscribing again failed; trying again.")]
    private static partial void ResubscribeFailed(ILogger logger, string stream, Exception exception);
}

/// <summary>Checks the kept subscriptions at once when this client loses a gateway connection, or all of them.</summary>
internal sealed class SubscriptionCheckTrigger(KeptSubscriptions subscriptions) : IClusterConnectionStatusObserver
{
    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
    {
        if (currentNumberOfGateways < previousNumberOfGateways || connectionRecovered)
        {
            subscriptions.CheckNow();
        }
    }

    public void NotifyClusterConnectionLost() => subscriptions.CheckNow();
}
