namespace IdentityServer.Admin;

/// <summary>The bucket size of sign-in statistics, and the window used when none is given.</summary>
internal sealed record StatisticsInterval(string Name, TimeSpan Length, int DefaultBuckets)
{
    /// <summary>The counts are made in memory, so a window stays bounded (a month of hours, two years of days).</summary>
    public const int MaxBuckets = 744;

    public static readonly StatisticsInterval Day = new("day", TimeSpan.FromDays(1), 7);

    public static readonly StatisticsInterval Hour = new("hour", TimeSpan.FromHours(1), 24);

    public static StatisticsInterval? Parse(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "day" => Day,
        "hour" => Hour,
        _ => null,
    };

    /// <summary>The start of the bucket that contains <paramref name="instant"/> (UTC midnight or the full hour).</summary>
    public DateTimeOffset Floor(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % Length.Ticks, TimeSpan.Zero);
    }

    /// <summary>The first bucket boundary at or after <paramref name="instant"/>.</summary>
    public DateTimeOffset Ceiling(DateTimeOffset instant)
    {
        var floor = Floor(instant);
        return floor == instant ? floor : floor + Length;
    }
}
