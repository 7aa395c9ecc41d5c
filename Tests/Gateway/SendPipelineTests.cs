using Microsoft.Extensions.Logging;
using Realtime.Gateway.Internal;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>How a connection's pipelined sends slow a fast client down, wait for each other and report failures.</summary>
public sealed class SendPipelineTests
{
    [Fact]
    public async Task BelowTheDepth_TheClientGoesOn_AtTheDepth_ItWaitsForTheOldestSend()
    {
        var pipeline = new SendPipeline(depth: 2, "c1", new ListLogger());
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();

        Assert.True(pipeline.Add(first.Task).IsCompleted);
        var full = pipeline.Add(second.Task);
        Assert.False(full.IsCompleted);

        first.SetResult();
        await full.Within("the pipeline to take the next send once the oldest is answered");
        Assert.False(pipeline.Add(new TaskCompletionSource().Task).IsCompleted, "one unanswered and one new: at the depth again");
    }

    [Fact]
    public async Task Drain_WaitsForEverySend_AndAFailedSendIsLoggedNotThrown()
    {
        var logger = new ListLogger();
        var pipeline = new SendPipeline(depth: 8, "c1", logger);
        var failing = new TaskCompletionSource();
        var succeeding = new TaskCompletionSource();
        Assert.True(pipeline.Add(failing.Task).IsCompleted);
        Assert.True(pipeline.Add(succeeding.Task).IsCompleted);

        var drained = pipeline.DrainAsync();
        failing.SetException(new InvalidOperationException("the silo went away"));
        Assert.False(drained.IsCompleted);
        succeeding.SetResult();

        await drained.Within("the drain");
        await Eventually.True(() => logger.Messages.Any(m => m.Contains("c1", StringComparison.Ordinal)), "the failed send is logged");
        Assert.True(pipeline.DrainAsync().IsCompleted, "nothing is left in flight");
    }

    [Fact]
    public void ASendThatFailedAtOnce_IsLogged_AndTheClientGoesOn()
    {
        var logger = new ListLogger();
        var pipeline = new SendPipeline(depth: 1, "c2", logger);

        Assert.True(pipeline.Add(Task.FromException(new InvalidOperationException("no silo"))).IsCompleted);

        Assert.Single(logger.Messages);
    }

    private sealed class ListLogger : ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add(formatter(state, exception));
            }
        }
    }
}
