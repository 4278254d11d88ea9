using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityServer.Tests.Admin;

/// <summary>
/// Another writer that changes a client between the moment a save reads it and the moment it writes it:
/// armed for one client, it moves the stored row's concurrency token in the database, as a second
/// administrator's save would, so the save loses OpenIddict's concurrency check for real.
/// </summary>
public sealed class ConcurrentClientWriter : SaveChangesInterceptor
{
    private string? armedFor;

    public void ArmFor(string clientId) => Volatile.Write(ref armedFor, clientId);

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        var target = Volatile.Read(ref armedFor);
        if (target is not null && eventData.Context is { } context
            && context.ChangeTracker.Entries<OpenIddictEntityFrameworkCoreApplication>().Any(e => e.State == EntityState.Modified && e.Entity.ClientId == target)
            && Interlocked.CompareExchange(ref armedFor, null, target) == target)
        {
            await context.Set<OpenIddictEntityFrameworkCoreApplication>().Where(a => a.ClientId == target)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.ConcurrencyToken, Guid.NewGuid().ToString()), cancellationToken);
        }
        return result;
    }
}

public sealed class ConcurrentClientWriterFactory : InterceptedFactory
{
    public ConcurrentClientWriter Writer { get; } = new();

    protected override IInterceptor Interceptor => Writer;
}

/// <summary>
/// Two administrators saving the same client at the same moment on the admin pages: the later save is not a
/// server error but the client's page again, as stored, with a notice to make the change again; nothing of
/// it was written, and the next save goes through.
/// </summary>
public sealed class AdminPageConflictTests(ConcurrentClientWriterFactory factory) : IClassFixture<ConcurrentClientWriterFactory>
{
    [Fact]
    public async Task ClientPage_SaveThatLosesTheRace_ShowsThePageAgainWithANotice_NothingWritten()
    {
        using var admin = factory.CreateOidcClient();
        await admin.SignInThroughPortalAsync();
        var page = await admin.NavigateAsync("/Admin/Clients/" + TestSeed.WebClientId);
        var stored = (await OidcTestClient.ParseAsync(page)).QuerySelector("input[name='Form.DisplayName']")!.GetAttribute("value");

        factory.Writer.ArmFor(TestSeed.WebClientId);
        var lost = await admin.SubmitAsync(page, new Dictionary<string, string> { ["Form.DisplayName"] = "Lost change" }, formId: "client-form");

        Assert.Equal(HttpStatusCode.Redirect, lost.StatusCode);
        Assert.Equal("/Admin/Clients/" + TestSeed.WebClientId, lost.Headers.Location?.OriginalString);
        var shown = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(lost));
        Assert.StartsWith("Someone else changed this at the same moment", shown.QuerySelector("#admin-message")?.TextContent, StringComparison.Ordinal);
        Assert.Equal(stored, shown.QuerySelector("input[name='Form.DisplayName']")?.GetAttribute("value"));
        Assert.NotEqual("Lost change", stored);

        page = await admin.NavigateAsync("/Admin/Clients/" + TestSeed.WebClientId);
        var saved = await OidcTestClient.ParseAsync(await admin.FollowLocalRedirectsAsync(
            await admin.SubmitAsync(page, new Dictionary<string, string> { ["Form.DisplayName"] = "Second try" }, formId: "client-form")));
        Assert.Equal("Second try", saved.QuerySelector("h1")?.TextContent);
    }
}
