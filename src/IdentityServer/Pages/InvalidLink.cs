namespace IdentityServer.Pages;

/// <summary>
/// What the friendly page for a mailed link that cannot be used (<c>Shared/_InvalidLink</c>) says,
/// and where it sends the person next. Every link page answers such a link with it and status 400,
/// having changed nothing.
/// </summary>
public sealed record InvalidLink(string NextStep, string NextStepHref, string Message = InvalidLink.ExpiredOrUsed)
{
    public const string ExpiredOrUsed = "This link has expired or was already used.";
}
