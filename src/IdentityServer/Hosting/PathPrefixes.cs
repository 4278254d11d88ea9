namespace IdentityServer.Hosting;

internal static class PathPrefixes
{
    /// <summary>Whether the path lies under one of the prefixes (whole segments, any case); allocates nothing.</summary>
    public static bool StartsWithAny(this PathString path, string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}
