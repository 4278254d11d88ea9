namespace IdentityServer.Pages.Admin.Users;

/// <summary>What <c>_ProfileFields</c> shows: the roles that exist, those ticked, and the claim values.</summary>
public sealed record ProfileFields(IReadOnlyList<string> AvailableRoles, IReadOnlyCollection<string> Roles, IReadOnlyDictionary<string, string?> Claims);
