namespace Realtime.Runtime.Internal.Activation;

/// <summary>
/// Runs the tasks of one activation one at a time, in order, on the thread pool. Grain code that awaits resumes
/// here, so a grain never runs on two threads at once and needs no locks. Tasks are never inlined: a turn always
/// starts after the one before it has yielded.
/// </summary>
internal sealed class ActivationTaskScheduler : TaskScheduler, IThreadPoolWorkItem
{
    // Bounds how long one activation keeps a pool thread before yielding to others.
    private const int MaxTasksPerBatch = 64;

    private readonly Queue<Task> _tasks = new();
    private bool _scheduled;

    public override int MaximumConcurrencyLevel => 1;

    protected override void QueueTask(Task task)
    {
        lock (_tasks)
        {
            _tasks.Enqueue(task);
            if (_scheduled)
            {
                return;
            }

            _scheduled = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        for (var i = 0; i < MaxTasksPerBatch; i++)
        {
            Task? task;
            lock (_tasks)
            {
                if (!_tasks.TryDequeue(out task))
                {
                    _scheduled = false;
                    return;
                }
            }

            TryExecuteTask(task);
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_tasks)
        {
            return _tasks.ToArray();
        }
    }
}
