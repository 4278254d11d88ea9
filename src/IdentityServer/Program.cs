using IdentityServer.Account;
using IdentityServer.Admin;
using IdentityServer.Authorization;
using IdentityServer.BackchannelLogout;
using IdentityServer.Branding;
using IdentityServer.Data;
using IdentityServer.Email;
using IdentityServer.Hosting;
using IdentityServer.Invitations;
using IdentityServer.Keys;
using IdentityServer.Localization;
using IdentityServer.Observability;
using IdentityServer.Passkeys;
using IdentityServer.Pruning;
using IdentityServer.RateLimiting;
using IdentityServer.Registration;
using IdentityServer.Seeding;
using IdentityServer.Sessions;
using IdentityServer.StepUp;
using IdentityServer.TwoFactor;

try
{
    var builder = WebApplication.CreateBuilder(LaunchEnvironment.Options(args));

    builder.AddHosting();
    builder.AddBranding();
    builder.AddPageLanguages();
    builder.AddForwardedHeaders();
    builder.AddHealth();
    builder.AddDatabase();
    builder.AddAccounts();
    builder.AddEmail();
    builder.AddAccountLinks();
    builder.AddInvitations();
    builder.AddRegistration();
    builder.AddSessions();
    builder.AddBackchannelLogout();
    builder.AddAuthorizationServer();
    builder.AddTwoFactor();
    builder.AddPasskeys();
    builder.AddStepUp();
    builder.AddRateLimits();
    builder.AddSeeding();
    builder.AddPruning();
    builder.AddAdmin();
    builder.AddObservability();

    var app = builder.Build();

    await using (await app.LockDatabaseForStartupAsync())
    {
        await app.MigrateDatabaseAsync();
        await app.SeedAsync();
        app.EnsureDataProtectionKey();
        await app.EnsureSigningKeysAsync();
    }

    app.UseHosting();
    app.MapBranding();
    app.MapAuthorizationEndpoints();
    app.MapRazorPages();
    app.MapPasskeys();
    app.MapAdmin();
    app.MapHealth();

    await app.RunAsync();
}
catch (Exception error) when (StartupFailure.Report(error))
{
    return StartupFailure.ExitCode;
}
return 0;

/// <summary>Entry point; public so that integration tests can host the server.</summary>
public partial class Program;
