using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Data;

/// <summary>An account that can sign in. Profile claims live in the Identity user-claims table.</summary>
public sealed class ApplicationUser : IdentityUser
{
}
