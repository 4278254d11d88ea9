namespace IdP.Tests.Browser;

/// <summary>A test that needs Chromium: skipped when it is missing, unless CI requires it (see <see cref="Chromium.SkipReason"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (Chromium.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
