using Microsoft.AspNetCore.Identity;

namespace IdentityServer.Data;

/// <summary>
/// What the design-time factories give the context in place of the application's services: Identity
/// picks its schema (here version 3, with passkeys) from <c>IdentityOptions.Stores</c> of the
/// application's service provider, and without one it would build version 1 and drop the passkey table.
/// Must match <c>options.Stores.SchemaVersion</c> in <c>Account/AccountSetup.cs</c>.
/// </summary>
internal static class DesignTimeServices
{
    public static IServiceProvider IdentityStores { get; } = new ServiceCollection()
        .Configure<IdentityOptions>(static options => options.Stores.SchemaVersion = IdentitySchemaVersions.Version3)
        .BuildServiceProvider();
}
