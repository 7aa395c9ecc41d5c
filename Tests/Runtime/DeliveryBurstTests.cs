using Microsoft.Extensions.Logging.Abstractions;
using Realtime.Runtime;
using Realtime.Runtime.Internal.Observers;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Runtime;

/// <summary>When a burst-aware observer hears that its calls are over: once per burst, after all of them.</summary>
public sealed class DeliveryBurstTests
{
    [Fact]
    public void OutsideABurst_AnObserverHearsAfterEveryCall()
    {
        var observer = new RecordingObserver();

        DeliveryBurst.Delivered(observer, NullLogger.Instance);
        DeliveryBurst.Delivered(observer, NullLogger.Instance);

        Assert.Equal(2, observer.Notifications);
    }

    [Fact]
    public void InABurst_EachObserverHearsOnce_AtTheEnd()
    {
        var first = new RecordingObserver();
        var second = new RecordingObserver();

        DeliveryBurst.Begin();
        DeliveryBurst.Delivered(first, NullLogger.Instance);
        DeliveryBurst.Delivered(second, NullLogger.Instance);
        DeliveryBurst.Delivered(first, NullLogger.Instance);
        Assert.Equal(0, first.Notifications + second.Notifications);
        DeliveryBurst.End();

        Assert.Equal(1, first.Notifications);
        Assert.Equal(1, second.Notifications);

        // The next burst starts clean.
        DeliveryBurst.Begin();
        DeliveryBurst.Delivered(second, NullLogger.Instance);
        DeliveryBurst.End();
        Assert.Equal(1, first.Notifications);
        Assert.Equal(2, second.Notifications);
    }

    [Fact]
    public void AnObserverThatFails_DoesNotKeepTheOthersFromHearing()
    {
        var failing = new RecordingObserver { Fails = true };
        var healthy = new RecordingObserver();

        DeliveryBurst.Begin();
        DeliveryBurst.Delivered(failing, NullLogger.Instance);
        DeliveryBurst.Delivered(healthy, NullLogger.Instance);
        DeliveryBurst.End();

        Assert.Equal(1, failing.Notifications);
        Assert.Equal(1, healthy.Notifications);
    }

    [Fact]
    public async Task AGrainCallingABurstAwareObserverInProcess_TheObserverHearsAfterTheCall()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var recording = new RecordingObserver();
        var observer = runtime.Grains.CreateObjectReference<ITestObserver>(recording);

        Assert.Equal("observer:a", await runtime.Grains.GetGrain<ITestGrain>("burst").CallObserver(observer, "a").Within("the first call"));
        Assert.Equal("observer:b", await runtime.Grains.GetGrain<ITestGrain>("burst").CallObserver(observer, "b").Within("the second call"));

        Assert.Equal(["call a", "delivered", "call b", "delivered"], recording.Events);
    }

    private sealed class RecordingObserver : ITestObserver, IBurstAwareObserver
    {
        public List<string> Events { get; } = [];

        public bool Fails { get; init; }

        public int Notifications { get; private set; }

        public Task<string> Echo(string text)
        {
            lock (Events)
            {
                Events.Add($"call {text}");
            }

            return Task.FromResult($"observer:{text}");
        }

        public void OnCallsDelivered()
        {
            Notifications++;
            lock (Events)
            {
                Events.Add("delivered");
            }

            if (Fails)
            {
                throw new InvalidOperationException("the observer failed");
            }
        }
    }
}
