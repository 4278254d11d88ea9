namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>A test that needs something the machine may lack: skipped, with the reason, when that reason is not null.</summary>
internal abstract class RequirementFactAttribute : FactAttribute
{
    protected RequirementFactAttribute(string? skipReason)
    {
        if (skipReason is not null)
        {
            Skip = skipReason;
        }
    }
}
