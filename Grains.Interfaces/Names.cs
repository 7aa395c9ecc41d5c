namespace Realtime.Contracts;

/// <summary>The rules every room, namespace and event name follows, checked where a name enters the system.</summary>
public static class Names
{
    /// <summary>The longest name, in characters.</summary>
    public const int MaxLength = 200;

    /// <summary>Null when <paramref name="name"/> is a valid room name; otherwise why it is not.</summary>
    public static string? ValidateRoom(string? name) => Validate("room", name);

    /// <summary>Null when <paramref name="name"/> is a valid event name; otherwise why it is not.</summary>
    public static string? ValidateEvent(string? name) => Validate("event", name);

    /// <summary>
    /// Null when <paramref name="name"/> is a valid namespace name (without its leading '/'); otherwise why it is not.
    /// </summary>
    public static string? ValidateNamespace(string? name)
    {
        var error = Validate("namespace", name);
        if (error is null && name!.Contains('/'))
        {
            error = "A namespace name cannot contain '/'.";
        }

        return error;
    }

    private static string? Validate(string what, string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"A {what} name cannot be empty.";
        }

        if (name.Length > MaxLength)
        {
            return $"A {what} name has at most {MaxLength} characters; this one has {name.Length}.";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"A {what} name cannot contain control characters (found U+{(int)c:X4}).";
            }
        }

        return null;
    }
}
