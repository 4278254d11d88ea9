using IdentityServer.Audit;

namespace IdentityServer.Tests.Admin;

public sealed class SecurityEventLabelsTests
{
    [Fact]
    public void EveryEventType_HasAHumanLabel()
    {
        var missing = SecurityEventTypes.All.Where(static t => !SecurityEventLabels.Has(t) || SecurityEventLabels.For(t).Contains('_', StringComparison.Ordinal)).ToList();

        Assert.Empty(missing);
        Assert.Equal(SecurityEventTypes.All.Count, SecurityEventTypes.All.Select(SecurityEventLabels.For).Distinct(StringComparer.Ordinal).Count());
    }
}
