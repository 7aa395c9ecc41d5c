using Microsoft.Extensions.Options;

namespace Realtime.Gateway.Authorization;

/// <summary>Who may do an operation on a namespace's rooms.</summary>
public enum RoomAccess
{
    /// <summary>Every connection.</summary>
    Anyone,
    /// <summary>Connections with a valid token (a user).</summary>
    Authenticated,
    /// <summary>Members of the room (for join: not applicable).</summary>
    Members,
    /// <summary>Connections whose token grants the room (<see cref="PermissionOptions.GrantsClaim"/>), while it is valid.</summary>
    Granted,
    /// <summary>No client: only the server (hub code, the emitter, the HTTP API, socket.io server code).</summary>
    Nobody,
}

/// <summary>The policy of the namespaces a rule names.</summary>
public sealed class NamespacePolicy
{
    /// <summary>The namespace (<c>/</c>, <c>/chat</c>), or <c>*</c> for every namespace no other rule names.</summary>
    public string Namespace { get; set; } = "*";

    /// <summary>Who may join a room.</summary>
    public RoomAccess Join { get; set; } = RoomAccess.Anyone;

    /// <summary>Who may send to a room.</summary>
    public RoomAccess Send { get; set; } = RoomAccess.Anyone;

    /// <summary>Who may list a room's members (and, with <see cref="RoomAccess.Anyone"/> or <see cref="RoomAccess.Authenticated"/> or <see cref="RoomAccess.Members"/>, the namespace's).</summary>
    public RoomAccess Presence { get; set; } = RoomAccess.Anyone;

    /// <summary>Who may send to the whole namespace (<c>Broadcast</c>).</summary>
    public RoomAccess Broadcast { get; set; } = RoomAccess.Anyone;

    /// <summary>Who may close a room.</summary>
    public RoomAccess Close { get; set; } = RoomAccess.Anyone;
}

/// <summary>
/// Room and namespace permissions of clients (configuration section <c>Permissions</c>). Without rules every client
/// may do everything, as before.
/// </summary>
public sealed class PermissionOptions
{
    public const string SectionName = "Permissions";

    /// <summary>One rule per namespace, plus at most one for <c>*</c>.</summary>
    public List<NamespacePolicy> Namespaces { get; set; } = [];

    /// <summary>
    /// The token claim that grants rooms: exact room names, or prefixes ending with <c>*</c> (<c>support:*</c>). A
    /// JSON array in the token gives several.
    /// </summary>
    public string GrantsClaim { get; set; } = "rooms";
}

internal sealed class PermissionOptionsValidator : IValidateOptions<PermissionOptions>
{
    public ValidateOptionsResult Validate(string? name, PermissionOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.Namespaces.Count; i++)
        {
            var rule = options.Namespaces[i];
            var at = $"Permissions:Namespaces:{i}";
            if (rule.Namespace != "*" && rule.Namespace is not ['/', ..])
            {
                failures.Add($"{at}:Namespace must be '/', '/name' or '*', not '{rule.Namespace}'.");
            }

            if (options.Namespaces.Take(i).Any(r => r.Namespace == rule.Namespace))
            {
                failures.Add($"{at}:Namespace names '{rule.Namespace}' a second time.");
            }

            foreach (var (operation, access) in new[] { ("Join", rule.Join), ("Send", rule.Send), ("Presence", rule.Presence), ("Broadcast", rule.Broadcast), ("Close", rule.Close) })
            {
                if (!Enum.IsDefined(access))
                {
                    failures.Add($"{at}:{operation} must be Anyone, Authenticated, Members, Granted or Nobody, not '{access}'.");
                }
            }

            if (rule.Join == RoomAccess.Members)
            {
                failures.Add($"{at}:Join cannot be Members: a connection joining a room is not a member yet.");
            }

            if (rule.Broadcast is RoomAccess.Members or RoomAccess.Granted)
            {
                failures.Add($"{at}:Broadcast must be Anyone, Authenticated or Nobody: a broadcast names no room.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.GrantsClaim))
        {
            failures.Add("Permissions:GrantsClaim must name a claim.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
