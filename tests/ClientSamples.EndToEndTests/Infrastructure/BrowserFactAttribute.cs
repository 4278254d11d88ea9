namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>A test that needs Chromium: skipped when it is missing, unless CI requires it (see <see cref="Chromium.SkipReason"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class BrowserFactAttribute() : RequirementFactAttribute(Chromium.SkipReason);
