namespace IdentityServer.Admin;

/// <summary>
/// The built-in scope that grants the admin API. It exists on every deployment (the seeder ensures
/// it at start), so a seed file only lists it on the clients that may administer the server.
/// </summary>
internal static class AdminScope
{
    public const string Name = "idp.admin";

    /// <summary>The resource (access token audience) the scope is for.</summary>
    public const string Resource = "idp-admin-api";

    /// <summary>The role a signed-in account needs to use the admin pages, or the admin API with its cookie.</summary>
    public const string Role = "admin";
}
