namespace Realtime.Grains.Internal;

internal static class KeyParts
{
    /// <summary>The hub name at the start of a grain key made by <see cref="GrainKeys"/>.</summary>
    public static string Hub(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? key : key[..slash];
    }
}
