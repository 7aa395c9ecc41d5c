using System.Text;
using Microsoft.Extensions.Logging;
using Realtime.Contracts;
using Realtime.Gateway.Core;
using Realtime.Gateway.SignalR;
using Realtime.Tests.Infrastructure;

namespace Realtime.Tests.Gateway;

/// <summary>How a connection's pipelined sends keep their order, slow a fast client down, and report failures.</summary>
public sealed class SendPipelineTests
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(PipelinedSend Send, Exception Error)> _failed = new();

    [Fact]
    public async Task Add_SendsOneCallAtATime_AndWhatQueuedForOneGroupGoesTogetherInOrder()
    {
        var room = new FakeGroup();
        var pipeline = new SendPipeline(depth: 16, "c1", new ListLogger(), Publish, Failed);

        for (var n = 0; n < 5; n++)
        {
            Assert.True(pipeline.Add(room, Text($"{n}"), What($"{n}")).IsCompleted);
        }

        await Eventually.True(() => room.Calls.Count == 1, "the first send goes at once");
        Assert.Equal(["0"], room.Calls[0].Texts);
        room.AnswerNext();
        await Eventually.True(() => room.Calls.Count == 2, "the sends that queued behind it go as the next call");
        Assert.Equal(["1", "2", "3", "4"], room.Calls[1].Texts);
        room.AnswerNext();
        await pipeline.DrainAsync().Within("the drain");
    }

    [Fact]
    public async Task Add_AtTheDepth_TheClientWaitsUntilTheQueueGoesDown()
    {
        var room = new FakeGroup();
        var pipeline = new SendPipeline(depth: 3, "c1", new ListLogger(), Publish, Failed);
        Assert.True(pipeline.Add(room, Text("0"), What("0")).IsCompleted);
        await Eventually.True(() => room.Calls.Count == 1, "the first send is on its way");
        Assert.True(pipeline.Add(room, Text("1"), What("1")).IsCompleted);
        Assert.True(pipeline.Add(room, Text("2"), What("2")).IsCompleted);

        var full = pipeline.Add(room, Text("3"), What("3"));
        Assert.False(full.IsCompleted);

        room.AnswerNext();
        await full.Within("room in the queue once the next call took the waiting sends");
        await Eventually.True(() => room.Calls.Count == 2, "the waiting sends go as the next call");
        Assert.Equal(["1", "2", "3"], room.Calls[1].Texts);
        room.AnswerNext();
    }

    [Fact]
    public async Task Drain_WaitsForEverySend_AndAFailedSendIsReportedWithWhatItWas_NotThrown()
    {
        var logger = new ListLogger();
        var room = new FakeGroup();
        var other = new FakeGroup();
        var pipeline = new SendPipeline(depth: 8, "c1", logger, Publish, Failed);
        Assert.True(pipeline.Add(room, Text("a"), What("a")).IsCompleted);
        Assert.True(pipeline.Add(other, Text("b"), What("b")).IsCompleted);

        var drained = pipeline.DrainAsync();
        await Eventually.True(() => room.Calls.Count == 1, "the first send is on its way");
        room.FailNext(new InvalidOperationException("the silo went away"));
        await Eventually.True(() => other.Calls.Count == 1, "the next group's send follows");
        Assert.False(drained.IsCompleted);
        other.AnswerNext();

        await drained.Within("the drain");
        Assert.Contains(logger.Messages, m => m.Contains("c1", StringComparison.Ordinal));
        var (send, error) = Assert.Single(_failed);
        Assert.Equal(new PipelinedSend("room-a", "event-a"), send);
        Assert.Equal("the silo went away", error.Message);
        Assert.True(pipeline.DrainAsync().IsCompleted, "nothing is left in flight");
    }

    private void Failed(PipelinedSend send, Exception error) => _failed.Enqueue((send, error));

    private static Task Publish(IMemberGroupGrain target, Publication[] batch) => batch.Length == 1 ? target.Publish(batch[0]) : target.PublishAll(batch);

    private static PipelinedSend What(string text) => new($"room-{text}", $"event-{text}");

    private static Publication Text(string text) => new(new SerializedPayload([new ProtocolPayload("json", Encoding.UTF8.GetBytes(text))]));

    /// <summary>A group's grain that answers when told to, and records each call's publications.</summary>
    private sealed class FakeGroup : IMemberGroupGrain
    {
        private readonly Queue<TaskCompletionSource<long>> _answers = new();
        private readonly List<(string[] Texts, Task<long> Answer)> _calls = [];

        /// <summary>The calls so far, in the order they were made.</summary>
        public IReadOnlyList<(string[] Texts, Task<long> Answer)> Calls
        {
            get
            {
                lock (_answers)
                {
                    return [.. _calls];
                }
            }
        }

        public void AnswerNext()
        {
            lock (_answers)
            {
                _answers.Dequeue().SetResult(0);
            }
        }

        public void FailNext(Exception exception)
        {
            lock (_answers)
            {
                _answers.Dequeue().SetException(exception);
            }
        }

        public Task<long> Publish(Publication publication) => PublishAll([publication]);

        public Task<GroupPosition> Send(Publication publication) => throw new NotSupportedException();

        public Task<long> PublishConfirmed(Publication publication) => throw new NotSupportedException();

        public Task<GroupPosition> SendAll(IReadOnlyList<Publication> publications) => throw new NotSupportedException();

        public Task MoveTo(SiloAddress silo) => throw new NotSupportedException();

        public Task<long> PublishAll(IReadOnlyList<Publication> publications)
        {
            var answer = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_answers)
            {
                _answers.Enqueue(answer);
                _calls.Add((publications.Select(p => Encoding.UTF8.GetString(p.Payload.Protocols[0].Bytes.Span)).ToArray(), answer.Task));
            }

            return answer.Task;
        }

        public Task<int> MemberCount() => throw new NotSupportedException();

        public Task<Replay> Since(string? epoch, long sequence) => throw new NotSupportedException();

        public Task<IReadOnlyList<Member>> Members() => throw new NotSupportedException();

        public Task<IReadOnlyList<SessionInfo>> Sessions() => throw new NotSupportedException();

        public Task GatewaysDeparted(IReadOnlyList<string> gatewayIds) => throw new NotSupportedException();
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
