using System.Linq.Expressions;
using System.Reflection;
using Realtime.Runtime.Internal.Messaging;

namespace Realtime.Runtime.Internal.Invocation;

/// <summary>
/// One method of a grain interface: how a caller turns a call into a message (<see cref="Send"/>) and how the
/// activation runs it (<see cref="Invoke"/>). Both delegates are built once per method.
/// </summary>
internal sealed class GrainMethod
{
    private static readonly MethodInfo SendTaskOfT = typeof(GrainMethod).GetMethod(nameof(SendTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo SendValueTaskOfT = typeof(GrainMethod).GetMethod(nameof(SendValueTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AdaptTaskOfT = typeof(GrainMethod).GetMethod(nameof(AdaptTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo AdaptValueTaskOfT = typeof(GrainMethod).GetMethod(nameof(AdaptValueTaskOf), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<RuntimeClient, GrainReference, GrainMethod, object?[], object?> _send;
    private readonly Func<object, object?[], ValueTask<object?>> _invoke;

    public GrainMethod(GrainInterface owner, int id, MethodInfo method)
    {
        Interface = owner;
        Id = id;
        MethodInfo = method;
        Name = method.Name;
        IsOneWay = method.GetCustomAttribute<OneWayAttribute>() is not null;
        AlwaysInterleave = method.GetCustomAttribute<AlwaysInterleaveAttribute>() is not null;
        ParameterTypes = method.GetParameters().Select(p => p.ParameterType).ToArray();

        var returnType = method.ReturnType;
        var isTaskLike = returnType == typeof(Task) || returnType == typeof(ValueTask) || IsGeneric(returnType, typeof(Task<>)) || IsGeneric(returnType, typeof(ValueTask<>));
        if (!isTaskLike && !(IsOneWay && returnType == typeof(void)))
        {
            throw new NotSupportedException($"{owner.InterfaceType.Name}.{method.Name} returns {returnType.Name}: grain methods return Task, Task<T>, ValueTask or ValueTask<T> (void only with [OneWay]).");
        }

        if (IsOneWay && returnType != typeof(void) && returnType != typeof(Task) && returnType != typeof(ValueTask))
        {
            throw new NotSupportedException($"{owner.InterfaceType.Name}.{method.Name} is [OneWay] and so cannot return a value.");
        }

        ResultType = returnType.IsGenericType ? returnType.GetGenericArguments()[0] : null;
        _send = BuildSend(returnType);
        _invoke = BuildInvoke(method);
    }

    public GrainInterface Interface { get; }

    public int Id { get; }

    public string Name { get; }

    public MethodInfo MethodInfo { get; }

    public bool IsOneWay { get; }

    public bool AlwaysInterleave { get; }

    public Type[] ParameterTypes { get; }

    /// <summary>The T of Task&lt;T&gt; or ValueTask&lt;T&gt;; null when the method returns no value.</summary>
    public Type? ResultType { get; }

    /// <summary>Sends a call through <paramref name="runtime"/> and returns what the proxy method must return.</summary>
    public object? Send(RuntimeClient runtime, GrainReference target, object?[] arguments) => _send(runtime, target, this, arguments);

    /// <summary>Runs the method on a grain or observer instance.</summary>
    public ValueTask<object?> Invoke(object target, object?[] arguments) => _invoke(target, arguments);

    public override string ToString() => $"{Interface.InterfaceType.Name}.{Name}";

    private Func<RuntimeClient, GrainReference, GrainMethod, object?[], object?> BuildSend(Type returnType)
    {
        if (IsOneWay)
        {
            object? completed = returnType == typeof(Task) ? Task.CompletedTask : returnType == typeof(ValueTask) ? default(ValueTask) : null;
            return (runtime, target, method, args) =>
            {
                runtime.SendOneWay(target, method, args);
                return completed;
            };
        }

        if (returnType == typeof(Task))
        {
            return static (runtime, target, method, args) => runtime.SendRequest<object?>(target, method, args);
        }

        if (returnType == typeof(ValueTask))
        {
            return static (runtime, target, method, args) => new ValueTask(runtime.SendRequest<object?>(target, method, args));
        }

        var generic = IsGeneric(returnType, typeof(Task<>)) ? SendTaskOfT : SendValueTaskOfT;
        return generic.MakeGenericMethod(returnType.GetGenericArguments()[0])
            .CreateDelegate<Func<RuntimeClient, GrainReference, GrainMethod, object?[], object?>>();
    }

    private static object? SendTaskOf<T>(RuntimeClient runtime, GrainReference target, GrainMethod method, object?[] args) =>
        runtime.SendRequest<T>(target, method, args);

    private static object? SendValueTaskOf<T>(RuntimeClient runtime, GrainReference target, GrainMethod method, object?[] args) =>
        new ValueTask<T>(runtime.SendRequest<T>(target, method, args));

    private static Func<object, object?[], ValueTask<object?>> BuildInvoke(MethodInfo method)
    {
        // (target, args) => Adapt(((TInterface)target).Method((T0)args[0], (T1)args[1], ...))
        var target = Expression.Parameter(typeof(object), "target");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var parameters = method.GetParameters();
        var arguments = new Expression[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            arguments[i] = Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), parameters[i].ParameterType);
        }

        var call = Expression.Call(Expression.Convert(target, method.DeclaringType!), method, arguments);
        var returnType = method.ReturnType;
        Expression body;
        if (returnType == typeof(void))
        {
            body = Expression.Block(call, Expression.Default(typeof(ValueTask<object?>)));
        }
        else if (returnType == typeof(Task))
        {
            body = Expression.Call(typeof(GrainMethod).GetMethod(nameof(AdaptTask), BindingFlags.NonPublic | BindingFlags.Static)!, call);
        }
        else if (returnType == typeof(ValueTask))
        {
            body = Expression.Call(typeof(GrainMethod).GetMethod(nameof(AdaptValueTask), BindingFlags.NonPublic | BindingFlags.Static)!, call);
        }
        else
        {
            var open = IsGeneric(returnType, typeof(Task<>)) ? AdaptTaskOfT : AdaptValueTaskOfT;
            body = Expression.Call(open.MakeGenericMethod(returnType.GetGenericArguments()[0]), call);
        }

        return Expression.Lambda<Func<object, object?[], ValueTask<object?>>>(body, target, args).Compile();
    }

    private static ValueTask<object?> AdaptTask(Task task) =>
        task.IsCompletedSuccessfully ? default : AwaitTask(task);

    private static async ValueTask<object?> AwaitTask(Task task)
    {
        await task;
        return null;
    }

    private static ValueTask<object?> AdaptValueTask(ValueTask task) =>
        task.IsCompletedSuccessfully ? default : AwaitValueTask(task);

    private static async ValueTask<object?> AwaitValueTask(ValueTask task)
    {
        await task;
        return null;
    }

    private static ValueTask<object?> AdaptTaskOf<T>(Task<T> task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>(task.Result) : AwaitTaskOf(task);

    private static async ValueTask<object?> AwaitTaskOf<T>(Task<T> task) => await task;

    private static ValueTask<object?> AdaptValueTaskOf<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>(task.Result) : AwaitValueTaskOf(task);

    private static async ValueTask<object?> AwaitValueTaskOf<T>(ValueTask<T> task) => await task;

    private static bool IsGeneric(Type type, Type definition) => type.IsGenericType && type.GetGenericTypeDefinition() == definition;
}
