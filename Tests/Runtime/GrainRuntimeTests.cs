using Realtime.Runtime;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Runtime;

public sealed class GrainRuntimeTests
{
    [Fact]
    public async Task GetGrain_ConcurrentFirstCalls_CreateExactlyOneActivation()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var calls = Enumerable.Range(0, 200)
            .Select(_ => Task.Run(() => runtime.Grains.GetGrain<ITestGrain>("single").InstanceId()))
            .ToArray();
        var instances = await Task.WhenAll(calls).Within("200 concurrent first calls");

        Assert.Single(instances.Distinct());
        Assert.Equal(1, runtime.Probe.ActivationsOf("single"));
    }

    [Fact]
    public async Task Call_ConcurrentCallsToNonReentrantGrain_NeverInterleave()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var grain = runtime.Grains.GetGrain<ITestGrain>("turns");

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Task.Run(() => grain.Step(i.ToString())))).Within("50 concurrent calls");

        var events = runtime.Probe.Events.ToArray();
        Assert.Equal(100, events.Length);
        for (var i = 0; i < events.Length; i += 2)
        {
            // Every call ends before the next one starts, although each awaits twice inside.
            Assert.StartsWith("start ", events[i]);
            Assert.Equal("end " + events[i]["start ".Length..], events[i + 1]);
        }
    }

    [Fact]
    public async Task Call_ConcurrentCallsToReentrantGrain_InterleaveAtAwaits()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var grain = runtime.Grains.GetGrain<IReentrantTestGrain>("interleaved");

        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => grain.Step(i.ToString()))).Within("50 concurrent calls");

        var events = runtime.Probe.Events.ToArray();
        Assert.Equal(100, events.Length);
        Assert.Contains(events.Zip(events.Skip(1)), pair => pair.First.StartsWith("start ", StringComparison.Ordinal) && pair.Second.StartsWith("start ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Call_AlwaysInterleaveMethod_RunsWhileAnotherCallAwaits()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var grain = runtime.Grains.GetGrain<IInterleavingTestGrain>("peek");
        var blocked = grain.WaitForGate();

        Assert.Equal("peeked", await grain.Peek().Within("an [AlwaysInterleave] call beside a blocked one"));
        Assert.False(blocked.IsCompleted);

        runtime.Probe.Gate.SetResult();
        await blocked.Within("the blocked call once the gate opens");
    }

    [Fact]
    public async Task Call_CycleThroughReentrantGrains_Completes()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var last = await runtime.Grains.GetGrain<IReentrantTestGrain>("a").PingPong("b", 3).Within("a -> b -> a -> b");

        Assert.Equal("b", last);
    }

    [Fact]
    public async Task Call_CycleThroughNonReentrantGrains_TimesOutWithClearError()
    {
        await using var runtime = await TestRuntime.StartAsync(o => o.ResponseTimeout = TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<TimeoutException>(
            () => runtime.Grains.GetGrain<INonReentrantPingGrain>("a").PingPong("b", 3).Within("the call cycle to fail"));

        Assert.Contains("PingPong", error.Message);
        Assert.Contains("Runtime:ResponseTimeout", error.Message);
    }

    [Fact]
    public async Task Call_GrainThrowsAfterAwait_CallerGetsTheException()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var grain = runtime.Grains.GetGrain<ITestGrain>("throws");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Throw("boom").Within("a throwing call"));

        Assert.Equal("boom", error.Message);
        Assert.Equal(1, await grain.Increment().Within("a call after the exception"));
    }

    [Fact]
    public async Task Call_GrainThrowsSynchronously_CallerGetsTheException()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var error = await Assert.ThrowsAsync<ArgumentException>(
            () => runtime.Grains.GetGrain<ITestGrain>("throws-sync").ThrowSynchronously("bad argument").Within("a throwing call"));

        Assert.Equal("bad argument", error.Message);
    }

    [Fact]
    public async Task Call_NoResponseWithinTimeout_FailsWithTimeoutException()
    {
        var time = new ManualTimeProvider();
        await using var runtime = await TestRuntime.StartAsync(o => o.ResponseTimeout = TimeSpan.FromSeconds(5), time);
        var grain = runtime.Grains.GetGrain<ITestGrain>("stuck");

        var call = grain.WaitForGate();
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => call.Within("the call to time out"));
        Assert.Contains("WaitForGate", error.Message);
        Assert.Contains("test(stuck)", error.Message);
    }

    [Fact]
    public async Task Collector_IdleLongerThanCollectionAge_DeactivatesAndNextCallReactivates()
    {
        var time = new ManualTimeProvider();
        await using var runtime = await TestRuntime.StartAsync(
            o =>
            {
                o.CollectionAge = TimeSpan.FromMinutes(10);
                o.CollectionQuantum = TimeSpan.FromMinutes(1);
            },
            time);
        var grain = runtime.Grains.GetGrain<ITestGrain>("idle");
        await grain.Increment().Within("the first call");

        time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(0, runtime.Probe.DeactivationsOf("idle"));

        time.Advance(TimeSpan.FromMinutes(2));
        await Eventually.True(() => runtime.Probe.DeactivationsOf("idle") == 1, "the idle grain is deactivated");

        Assert.Equal(1, await grain.Increment().Within("a call after collection")); // fresh state: a new activation
        Assert.Equal(2, runtime.Probe.ActivationsOf("idle"));
    }

    [Fact]
    public async Task Collector_GrainCalledWithinCollectionAge_StaysActive()
    {
        var time = new ManualTimeProvider();
        await using var runtime = await TestRuntime.StartAsync(o => o.CollectionAge = TimeSpan.FromMinutes(10), time);
        var grain = runtime.Grains.GetGrain<ITestGrain>("busy");

        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(i, await grain.Increment().Within("a call"));
            time.Advance(TimeSpan.FromMinutes(6));
        }

        Assert.Equal(0, runtime.Probe.DeactivationsOf("busy"));
    }

    [Fact]
    public async Task DeactivateOnIdle_NextCall_CreatesNewActivation()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var grain = runtime.Grains.GetGrain<ITestGrain>("short-lived");
        var first = await grain.InstanceId().Within("first call");

        await grain.Deactivate().Within("deactivate");
        await Eventually.True(() => runtime.Probe.DeactivationsOf("short-lived") == 1, "the grain deactivates");

        Assert.NotEqual(first, await grain.InstanceId().Within("call after deactivation"));
    }

    [Fact]
    public async Task RegisterTimer_ClockAdvances_TicksRunAsTurns()
    {
        var time = new ManualTimeProvider();
        await using var runtime = await TestRuntime.StartAsync(time: time);
        var grain = runtime.Grains.GetGrain<ITestGrain>("timer");
        await grain.StartTimer(periodSeconds: 5).Within("start the timer");

        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.True(() => grain.TimerTicks().Result == 1, "the first tick");
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.True(() => grain.TimerTicks().Result == 2, "the second tick");
    }

    [Fact]
    public async Task Call_GrainCallsAnotherGrain_ReturnsItsResult()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var viaA = await runtime.Grains.GetGrain<ITestGrain>("a").CallOther("b").Within("a call through a");
        var direct = await runtime.Grains.GetGrain<ITestGrain>("b").InstanceId().Within("a direct call");

        Assert.Equal(direct, viaA);
    }

    [Fact]
    public async Task Call_ActivationFails_CallerGetsGrainCallException()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var error = await Assert.ThrowsAsync<GrainCallException>(
            () => runtime.Grains.GetGrain<IFailingActivationGrain>("x").Call().Within("a call to a failing activation"));

        Assert.Contains("activation refused", error.Message);
    }

    [Fact]
    public async Task Call_NoGrainClassRegistered_CallerGetsGrainCallException()
    {
        await using var runtime = await TestRuntime.StartAsync();

        var error = await Assert.ThrowsAsync<GrainCallException>(
            () => runtime.Grains.GetGrain<IUnregisteredGrain>("x").Call().Within("a call to an unregistered grain"));

        Assert.Contains("unregistered", error.Message);
    }

    [Fact]
    public async Task CreateObjectReference_GrainCallsObserver_ObserverAnswers()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var observer = runtime.Grains.CreateObjectReference<ITestObserver>(new TestObserver());

        var answer = await runtime.Grains.GetGrain<ITestGrain>("caller").CallObserver(observer, "hi").Within("a grain calling an observer");

        Assert.Equal("observer:hi", answer);
    }

    [Fact]
    public async Task DeleteObjectReference_GrainCallsDeletedObserver_FailsClearly()
    {
        await using var runtime = await TestRuntime.StartAsync();
        var observer = runtime.Grains.CreateObjectReference<ITestObserver>(new TestObserver());
        runtime.Grains.DeleteObjectReference(observer);

        var error = await Assert.ThrowsAsync<GrainCallException>(
            () => runtime.Grains.GetGrain<ITestGrain>("caller").CallObserver(observer, "hi").Within("a call to a deleted observer"));

        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task Options_InvalidSetting_StartFailsNamingTheSetting()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestRuntime.StartAsync(o => o.ResponseTimeout = TimeSpan.Zero));

        Assert.Contains("Runtime:ResponseTimeout", error.Message);
    }
}
