using System.Collections.Concurrent;
using Realtime.Runtime;

namespace Realtime.Tests.Runtime;

/// <summary>Records what the test grains did, so tests can assert on it.</summary>
public sealed class GrainProbe
{
    public ConcurrentDictionary<string, int> Activations { get; } = new();

    public ConcurrentDictionary<string, int> Deactivations { get; } = new();

    public ConcurrentQueue<string> Events { get; } = new();

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int ActivationsOf(string key) => Activations.GetValueOrDefault(key);

    public int DeactivationsOf(string key) => Deactivations.GetValueOrDefault(key);
}

public interface ITestGrain : IGrainWithStringKey
{
    Task<string> InstanceId();

    Task<int> Increment();

    Task Step(string label);

    Task Throw(string message);

    Task ThrowSynchronously(string message);

    Task WaitForGate();

    Task<string> CallOther(string key);

    Task Deactivate();

    Task StartTimer(int periodSeconds);

    Task<int> TimerTicks();

    Task<string> CallObserver(ITestObserver observer, string text);
}

public interface IReentrantTestGrain : IGrainWithStringKey
{
    Task Step(string label);

    Task<string> PingPong(string otherKey, int depth);
}

public interface INonReentrantPingGrain : IGrainWithStringKey
{
    Task<string> PingPong(string otherKey, int depth);
}

public interface IInterleavingTestGrain : IGrainWithStringKey
{
    Task WaitForGate();

    [AlwaysInterleave]
    Task<string> Peek();
}

public interface IFailingActivationGrain : IGrainWithStringKey
{
    Task Call();
}

public interface IUnregisteredGrain : IGrainWithStringKey
{
    Task Call();
}

public interface ITestObserver : IGrainObserver
{
    Task<string> Echo(string text);
}

public sealed class TestGrain(GrainProbe probe) : Grain, ITestGrain
{
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private int _count;
    private int _ticks;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A real await, so that concurrent first calls have a window to race in.
        await Task.Delay(20, cancellationToken);
        probe.Activations.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        probe.Deactivations.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task<string> InstanceId() => Task.FromResult(_instance);

    public Task<int> Increment() => Task.FromResult(++_count);

    public async Task Step(string label)
    {
        probe.Events.Enqueue($"start {label}");
        await Task.Delay(2);
        await Task.Yield();
        probe.Events.Enqueue($"end {label}");
    }

    public async Task Throw(string message)
    {
        await Task.Yield();
        throw new InvalidOperationException(message);
    }

    public Task ThrowSynchronously(string message) => throw new ArgumentException(message);

    public Task WaitForGate() => probe.Gate.Task;

    public Task<string> CallOther(string key) => GrainFactory.GetGrain<ITestGrain>(key).InstanceId();

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task StartTimer(int periodSeconds)
    {
        RegisterTimer(_ => { _ticks++; return Task.CompletedTask; }, null, TimeSpan.FromSeconds(periodSeconds), TimeSpan.FromSeconds(periodSeconds));
        return Task.CompletedTask;
    }

    public Task<int> TimerTicks() => Task.FromResult(_ticks);

    public Task<string> CallObserver(ITestObserver observer, string text) => observer.Echo(text);
}

[Reentrant]
public sealed class ReentrantTestGrain(GrainProbe probe) : Grain, IReentrantTestGrain
{
    public async Task Step(string label)
    {
        probe.Events.Enqueue($"start {label}");
        await Task.Delay(2);
        await Task.Yield();
        probe.Events.Enqueue($"end {label}");
    }

    public Task<string> PingPong(string otherKey, int depth) =>
        depth == 0 ? Task.FromResult(GetPrimaryKeyString()) : GrainFactory.GetGrain<IReentrantTestGrain>(otherKey).PingPong(GetPrimaryKeyString(), depth - 1);
}

public sealed class NonReentrantPingGrain : Grain, INonReentrantPingGrain
{
    public Task<string> PingPong(string otherKey, int depth) =>
        depth == 0 ? Task.FromResult(GetPrimaryKeyString()) : GrainFactory.GetGrain<INonReentrantPingGrain>(otherKey).PingPong(GetPrimaryKeyString(), depth - 1);
}

public sealed class InterleavingTestGrain(GrainProbe probe) : Grain, IInterleavingTestGrain
{
    public Task WaitForGate() => probe.Gate.Task;

    public Task<string> Peek() => Task.FromResult("peeked");
}

public sealed class FailingActivationGrain : Grain, IFailingActivationGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("activation refused");

    public Task Call() => Task.CompletedTask;
}

public sealed class TestObserver : ITestObserver
{
    public Task<string> Echo(string text) => Task.FromResult($"observer:{text}");
}
