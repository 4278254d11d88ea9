using System.Net;
using IdentityServer.Account;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityServer.Tests.Account;

/// <summary>
/// Lockout counts every failed sign-in exactly, however many run at once, records each in the audit
/// trail, and never answers with a server error.
/// </summary>
public sealed class AccountLockoutTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string Password = "Lockout-Passw0rd!";
    private const string Incorrect = "The username or password is incorrect.";
    private const string Locked = "This account is locked because of repeated failed sign-ins. Try again later.";

    private LockoutOptions Lockout => factory.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Lockout;

    [Fact]
    public async Task Lockout_ParallelWrongPasswords_LockAfterExactlyTheLimit()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var attempts = limit + 3;
        var (id, name) = await CreateAccountAsync("parallel");

        var answers = await BurstAsync([.. Enumerable.Range(0, attempts).Select(i => (name, "wrong-" + i))]);

        // As one at a time: limit - 1 failures counted, the next one locks, the rest are refused.
        Assert.All(answers, static a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(limit - 1, answers.Count(static a => a.Error == Incorrect));
        Assert.Equal(attempts - limit + 1, answers.Count(static a => a.Error == Locked));
        var account = await AccountAsync(id);
        Assert.Equal(0, account.AccessFailedCount);
        Assert.InRange(account.LockoutEnd!.Value, DateTimeOffset.UtcNow + Lockout.DefaultLockoutTimeSpan - TimeSpan.FromMinutes(1),
            DateTimeOffset.UtcNow + Lockout.DefaultLockoutTimeSpan);
        var events = await EventsAsync(id);
        Assert.Equal(attempts, events.Count);
        Assert.Equal(limit - 1, events.Count(static e => e == (SecurityEventTypes.SignInFailed, "wrong_password")));
        Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_password")));
        Assert.Equal(attempts - limit, events.Count(static e => e == (SecurityEventTypes.LockedOut, null)));

        var right = await SignInAsync(name, Password);
        Assert.Equal((HttpStatusCode.OK, Locked), (right.Status, right.Error));
        Assert.Equal(account.LockoutEnd, (await AccountAsync(id)).LockoutEnd);
    }

    [Fact]
    public async Task Lockout_ParallelWrongPasswordsOnTwoNodesOfOneDatabase_LockAfterExactlyTheLimit()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var attempts = limit + 3;
        // A second server on this one's database, as a second node behind a load balancer.
        using var second = new IdentityServerFactory();
        second.Settings["ConnectionStrings:Default"] = factory.ConnectionString;
        second.Settings["DataProtection:KeysPath"] = factory.Settings["DataProtection:KeysPath"];
        var (id, name) = await CreateAccountAsync("two-nodes");

        var answers = await BurstAsync([.. Enumerable.Range(0, attempts).Select(i => (name, "wrong-" + i))], i => i % 2 == 0 ? factory : second);

        Assert.All(answers, static a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(limit - 1, answers.Count(static a => a.Error == Incorrect));
        var account = await AccountAsync(id);
        Assert.Equal(0, account.AccessFailedCount);
        Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow);
        var events = await EventsAsync(id);
        Assert.Equal(attempts, events.Count);
        Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_password")));
        // Both nodes record an unknown login under the same name: they derive the same key.
        Assert.Equal(factory.Services.GetRequiredService<UnknownLoginNames>().Pseudonym("nobody"),
            second.Services.GetRequiredService<UnknownLoginNames>().Pseudonym("nobody"));
    }

    [Fact]
    public async Task Lockout_ParallelWrongCurrentPasswordsOnChangePassword_LockAfterExactlyTheLimit()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var attempts = limit + 2;
        var (id, name) = await CreateAccountAsync("change-password");
        using var browser = factory.CreateOidcClient();
        Assert.True(await Admin.AdminTestHelpers.TrySignInAsync(browser, name, Password));
        using var form = await browser.NavigateAsync("/Account/ChangePassword");
        var token = (await OidcTestClient.ParseAsync(form)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var posts = Enumerable.Range(0, attempts).Select(async i =>
        {
            using var content = new FormUrlEncodedContent([
                new("Input.CurrentPassword", "guess-" + i), new("Input.NewPassword", "Changed-Passw0rd!"),
                new("Input.ConfirmPassword", "Changed-Passw0rd!"), new("__RequestVerificationToken", token)]);
            await start.Task;
            using var response = await browser.Http.PostAsync(new Uri("/Account/ChangePassword", UriKind.Relative), content);
            return (response.StatusCode, response.Headers.Location?.OriginalString);
        }).ToList();
        start.SetResult();
        var answers = await Task.WhenAll(posts);

        // Counted failures show the form again; the one that locks and those refused sign the browser out.
        Assert.Equal(limit - 1, answers.Count(static a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(static a => a.StatusCode != HttpStatusCode.OK),
            static a => Assert.Equal((HttpStatusCode.Redirect, "/Account/Login"), (a.StatusCode, a.OriginalString)));
        var account = await AccountAsync(id);
        Assert.Equal(0, account.AccessFailedCount);
        Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow);
        var events = await EventsAsync(id);
        Assert.Equal(limit - 1, events.Count(static e => e == (SecurityEventTypes.SignInFailed, "change_password_wrong_password")));
        Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "change_password_wrong_password")));
        Assert.Equal(attempts - limit, events.Count(static e => e == (SecurityEventTypes.LockedOut, "change_password")));
    }

    [Fact]
    public async Task Lockout_RightCurrentPasswordOnChangePasswordWhileLocked_IsRefusedAndChangesNothing()
    {
        var (id, name) = await CreateAccountAsync("change-password-locked");
        using var browser = factory.CreateOidcClient();
        Assert.True(await Admin.AdminTestHelpers.TrySignInAsync(browser, name, Password));
        using var form = await browser.NavigateAsync("/Account/ChangePassword");
        var token = (await OidcTestClient.ParseAsync(form)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        // Locked by wrong passwords at the sign-in page (another browser); this one is still signed in.
        using var attacker = factory.CreateOidcClient();
        for (var i = 0; i < Lockout.MaxFailedAccessAttempts; i++)
        {
            Assert.False(await Admin.AdminTestHelpers.TrySignInAsync(attacker, name, "wrong-" + i));
        }
        var hash = (await AccountAsync(id)).PasswordHash;

        using var content = new FormUrlEncodedContent([
            new("Input.CurrentPassword", Password), new("Input.NewPassword", "Changed-Passw0rd!"),
            new("Input.ConfirmPassword", "Changed-Passw0rd!"), new("__RequestVerificationToken", token)]);
        using var response = await browser.Http.PostAsync(new Uri("/Account/ChangePassword", UriKind.Relative), content);

        Assert.Equal((HttpStatusCode.Redirect, "/Account/Login"), (response.StatusCode, response.Headers.Location?.OriginalString));
        var account = await AccountAsync(id);
        Assert.Equal(hash, account.PasswordHash);
        Assert.True(account.LockoutEnd > DateTimeOffset.UtcNow);
        var events = await EventsAsync(id);
        Assert.Contains((SecurityEventTypes.LockedOut, "change_password"), events);
        Assert.DoesNotContain(events, static e => e.Type == SecurityEventTypes.PasswordChanged);
    }

    [Fact]
    public async Task Lockout_WrongPasswordsAndTheRightOneInABurst_EndAsSomeOrderOneAtATimeWould()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var wrong = limit + 2;
        // Every order the attempts could have taken one at a time: the right password at each place.
        var explained = Enumerable.Range(0, wrong + 1).Select(place => OneAtATime(wrong, place, limit)).ToList();
        for (var burst = 0; burst < 3; burst++)
        {
            var (id, name) = await CreateAccountAsync("burst-" + burst);
            var answers = await BurstAsync([.. Enumerable.Range(0, wrong).Select(i => (name, "wrong-" + i)), (name, Password)]);

            var right = answers[^1];
            Assert.True(right.Status == HttpStatusCode.Redirect || (right.Status, right.Error) == (HttpStatusCode.OK, Locked),
                $"The right password answered {(int)right.Status} {right.Error}.");
            Assert.All(answers.SkipLast(1), static a =>
                Assert.True(a.Status == HttpStatusCode.OK && a.Error is Incorrect or Locked, $"A wrong password answered {(int)a.Status} {a.Error}."));

            var account = await AccountAsync(id);
            var events = await EventsAsync(id);
            var observed = new Outcomes(
                Succeeded: right.Status == HttpStatusCode.Redirect,
                Counted: events.Count(static e => e == (SecurityEventTypes.SignInFailed, "wrong_password")),
                Locking: events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_password")),
                Refused: events.Count(static e => e == (SecurityEventTypes.LockedOut, null)),
                FinalCount: account.AccessFailedCount,
                Locked: account.LockoutEnd > DateTimeOffset.UtcNow);
            Assert.Contains(observed, explained);
            Assert.Equal(observed.Succeeded ? 1 : 0, events.Count(static e => e.Type == SecurityEventTypes.SignInSucceeded));
            Assert.Equal(observed.Counted, answers.Count(static a => a.Error == Incorrect));
        }
    }

    [Fact]
    public async Task Lockout_AttemptsOneAtATime_CountExactlyAndASuccessResetsTheCount()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var (id, name) = await CreateAccountAsync("sequential");
        // A lock that has run out counts as no lock (and its stored end must match the update's condition).
        await UpdateAccountAsync(id, static (users, user) => users.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddMinutes(-1)));

        for (var failure = 1; failure < limit; failure++)
        {
            Assert.Equal(Incorrect, (await SignInAsync(name, "wrong-" + failure)).Error);
            Assert.Equal(failure, (await AccountAsync(id)).AccessFailedCount);
        }
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(name, Password)).Status);
        Assert.Equal(0, (await AccountAsync(id)).AccessFailedCount);

        for (var failure = 1; failure < limit; failure++)
        {
            Assert.Equal(Incorrect, (await SignInAsync(name, "again-" + failure)).Error);
        }
        Assert.Equal(limit - 1, (await AccountAsync(id)).AccessFailedCount);
        Assert.Equal(Locked, (await SignInAsync(name, "the-last-one")).Error);
        var locked = await AccountAsync(id);
        Assert.Equal(0, locked.AccessFailedCount);
        Assert.True(locked.LockoutEnd > DateTimeOffset.UtcNow);

        // While locked: refused, not counted, the lock not extended, the right password refused too.
        Assert.Equal(Locked, (await SignInAsync(name, "while-locked")).Error);
        Assert.Equal(Locked, (await SignInAsync(name, Password)).Error);
        Assert.Equal((0, locked.LockoutEnd), ((await AccountAsync(id)).AccessFailedCount, (await AccountAsync(id)).LockoutEnd));

        var events = await EventsAsync(id);
        Assert.Equal(2 * (limit - 1), events.Count(static e => e == (SecurityEventTypes.SignInFailed, "wrong_password")));
        Assert.Equal(1, events.Count(static e => e == (SecurityEventTypes.LockedOut, "wrong_password")));
        Assert.Equal(2, events.Count(static e => e == (SecurityEventTypes.LockedOut, null)));
        Assert.Equal(1, events.Count(static e => e.Type == SecurityEventTypes.SignInSucceeded));
    }

    [Fact]
    public async Task Lockout_AccountLockedByAnAdministrator_StaysLockedWhateverIsTried()
    {
        var limit = Lockout.MaxFailedAccessAttempts;
        var (id, name) = await CreateAccountAsync("admin-locked");
        await UpdateAccountAsync(id, static async (users, user) =>
        {
            await users.SetLockoutEnabledAsync(user, true);
            return await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue);
        });

        var answers = await BurstAsync([.. Enumerable.Range(0, limit + 1).Select(i => (name, "wrong-" + i)), (name, Password)]);

        Assert.All(answers, static a => Assert.Equal((HttpStatusCode.OK, Locked), (a.Status, a.Error)));
        var account = await AccountAsync(id);
        Assert.Equal((0, DateTimeOffset.MaxValue), (account.AccessFailedCount, account.LockoutEnd));
        Assert.All(await EventsAsync(id), static e => Assert.Equal((SecurityEventTypes.LockedOut, null), e));
    }

    [Fact]
    public async Task Lockout_PasswordHashOfAnOlderFormat_IsUpgradedBySigningIn()
    {
        var (id, name) = await CreateAccountAsync("rehash");
        var old = new PasswordHasher<ApplicationUser>(Options.Create(new PasswordHasherOptions { CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV2 }))
            .HashPassword(new ApplicationUser(), Password);
        await UpdateAccountAsync(id, (users, user) =>
        {
            user.PasswordHash = old;
            return users.UpdateAsync(user);
        });
        var stamp = await WithAccountAsync(id, static (users, user) => users.GetSecurityStampAsync(user));

        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(name, Password)).Status);

        var account = await AccountAsync(id);
        Assert.NotEqual(old, account.PasswordHash);
        Assert.Equal(PasswordVerificationResult.Success, new PasswordHasher<ApplicationUser>().VerifyHashedPassword(account, account.PasswordHash!, Password));
        // The password did not change: the stamp, which refresh tokens are checked against, stays.
        Assert.Equal(stamp, account.SecurityStamp);
        Assert.Equal(HttpStatusCode.Redirect, (await SignInAsync(name, Password)).Status);
    }

    /// <summary>The outcomes of a burst, as counted from the answers, the audit trail and the account.</summary>
    private sealed record Outcomes(bool Succeeded, int Counted, int Locking, int Refused, int FinalCount, bool Locked);

    /// <summary>Identity's rules applied to the wrong passwords and the right one, one at a time, the right one at <paramref name="rightAt"/>.</summary>
    private static Outcomes OneAtATime(int wrong, int rightAt, int limit)
    {
        var (succeeded, counted, locking, refused, count, locked) = (false, 0, 0, 0, 0, false);
        for (var attempt = 0; attempt <= wrong; attempt++)
        {
            if (locked)
            {
                refused++;
            }
            else if (attempt == rightAt)
            {
                (succeeded, count) = (true, 0);
            }
            else if (++count < limit)
            {
                counted++;
            }
            else
            {
                (locking, count, locked) = (locking + 1, 0, true);
            }
        }
        return new Outcomes(succeeded, counted, locking, refused, count, locked);
    }

    private Task<(string Id, string Name)> CreateAccountAsync(string name) => factory.WithScopeAsync(async services =>
    {
        var user = new ApplicationUser { UserName = "lockout-" + name, Email = "lockout-" + name + "@example.com" };
        var result = await services.GetRequiredService<UserManager<ApplicationUser>>().CreateAsync(user, Password);
        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(static e => e.Description)));
        return (user.Id, user.UserName);
    });

    private Task<T> WithAccountAsync<T>(string id, Func<UserManager<ApplicationUser>, ApplicationUser, Task<T>> action) => factory.WithScopeAsync(async services =>
    {
        var users = services.GetRequiredService<UserManager<ApplicationUser>>();
        return await action(users, (await users.FindByIdAsync(id))!);
    });

    /// <summary>Changes the account through Identity, as the admin pages would.</summary>
    private async Task UpdateAccountAsync(string id, Func<UserManager<ApplicationUser>, ApplicationUser, Task<IdentityResult>> change) =>
        await WithAccountAsync(id, async (users, user) =>
        {
            var result = await change(users, user);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(static e => e.Description)));
            return 0;
        });

    private Task<ApplicationUser> AccountAsync(string id) => factory.WithScopeAsync(services =>
        services.GetRequiredService<ApplicationDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == id));

    private Task<List<(string Type, string? Detail)>> EventsAsync(string id) => factory.WithScopeAsync(async services =>
        (await services.GetRequiredService<ApplicationDbContext>().SecurityEvents.AsNoTracking()
            .Where(e => e.UserId == id && e.Type != SecurityEventTypes.SessionStarted)
            .Select(e => new { e.Type, e.Detail }).ToListAsync())
        .Select(static e => (e.Type, e.Detail)).ToList());

    private async Task<Answer> SignInAsync(string login, string password) => (await BurstAsync([(login, password)]))[0];

    /// <summary>
    /// Sends the sign-ins at once, each from its own browser (on the node <paramref name="nodeOf"/>
    /// picks, by default this class's server): every form is fetched first, then all are posted together.
    /// </summary>
    private async Task<List<Answer>> BurstAsync(IReadOnlyList<(string Login, string Password)> attempts, Func<int, IdentityServerFactory>? nodeOf = null)
    {
        var clients = attempts.Select((_, i) => (nodeOf?.Invoke(i) ?? factory).CreateOidcClient()).ToList();
        try
        {
            var forms = new List<FormUrlEncodedContent>();
            foreach (var (client, (login, password)) in clients.Zip(attempts))
            {
                using var page = await client.NavigateAsync("/Account/Login");
                var token = (await OidcTestClient.ParseAsync(page)).QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
                forms.Add(new FormUrlEncodedContent([new("Input.Login", login), new("Input.Password", password), new("__RequestVerificationToken", token)]));
            }
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var posts = clients.Zip(forms).Select(async pair =>
            {
                await start.Task;
                using var response = await pair.First.Http.PostAsync(new Uri("/Account/Login", UriKind.Relative), pair.Second);
                var error = response.StatusCode == HttpStatusCode.OK
                    ? (await OidcTestClient.ParseAsync(response)).QuerySelector("#login-error")?.TextContent
                    : null;
                return new Answer(response.StatusCode, error);
            }).ToList();
            start.SetResult();
            return [.. await Task.WhenAll(posts)];
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    private sealed record Answer(HttpStatusCode Status, string? Error);
}
