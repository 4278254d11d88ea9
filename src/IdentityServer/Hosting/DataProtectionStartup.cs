using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace IdentityServer.Hosting;

internal static class DataProtectionStartup
{
    /// <summary>
    /// Makes sure the data-protection key ring has a key in use before the server answers anything.
    /// Left to itself, each node creates the first key when it first protects something, so two nodes
    /// starting together on an empty key store could each create one; a node that later meets the
    /// other's key may not read it until its daily reload of the ring, and those keys protect refresh
    /// tokens and codes as well as cookies. Called inside the start-up lock (see
    /// <c>DatabaseSetup.LockDatabaseForStartupAsync</c>), so the first node creates the key and every
    /// other node finds it.
    /// </summary>
    public static void EnsureDataProtectionKey(this WebApplication app)
    {
        // Said at every start: an operator must back these up (and share them between nodes) with the database.
        var repository = app.Services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.XmlRepository;
        app.Logger.LogInformation("Data-protection keys (cookies, refresh tokens, codes) are kept {Place}, encrypted with the encryption certificate.",
            repository is FileSystemXmlRepository folder ? $"in the folder {folder.Directory.FullName}" : "in the database (table DataProtectionKeys)");

        var keys = app.Services.GetRequiredService<IKeyManager>();
        var now = DateTimeOffset.UtcNow;
        if (keys.GetAllKeys().Any(key => !key.IsRevoked && key.ActivationDate <= now && key.ExpirationDate > now))
        {
            return;
        }
        var lifetime = app.Services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.NewKeyLifetime;
        keys.CreateNewKey(activationDate: now, expirationDate: now + lifetime);
    }
}
