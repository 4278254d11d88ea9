using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Account;

/// <summary>Counts password-hash verifications, the sign-in's one expensive step.</summary>
public sealed class CountingPasswordHasher : IPasswordHasher<ApplicationUser>
{
    private readonly PasswordHasher<ApplicationUser> _inner = new();
    private int _verifications;

    public int Verifications => Volatile.Read(ref _verifications);

    public string HashPassword(ApplicationUser user, string password) => _inner.HashPassword(user, password);

    public PasswordVerificationResult VerifyHashedPassword(ApplicationUser user, string hashedPassword, string providedPassword)
    {
        Interlocked.Increment(ref _verifications);
        return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
    }
}

public sealed class CountingHasherFactory : IdentityServerFactory
{
    public CountingPasswordHasher Hasher { get; } = new();

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services => services.AddSingleton<IPasswordHasher<ApplicationUser>>(Hasher));
}

/// <summary>The sign-in page must not tell whether an account exists: same answers, same work, similar time.</summary>
public sealed partial class AccountEnumerationTests(CountingHasherFactory factory) : IClassFixture<CountingHasherFactory>
{
    private const string Password = "Enumeration-Passw0rd!";

    [Fact]
    public async Task UnknownNameAndWrongPassword_GetTheSamePage()
    {
        var account = await CreateAccountAsync("same-page");
        var (known, _) = await SignInAsync(account, "wrong-password-1");
        var (unknown, _) = await SignInAsync("nobody-same-page", "wrong-password-1");

        Assert.Equal(HttpStatusCode.OK, known.Status);
        Assert.Equal(known.Status, unknown.Status);
        Assert.Equal("The username or password is incorrect.", known.Error);
        // The whole page, once the typed name and the per-request antiforgery token are blanked out.
        Assert.Equal(known.Page.Replace(account, "NAME", StringComparison.Ordinal),
            unknown.Page.Replace("nobody-same-page", "NAME", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownName_IsLockedAfterAsManyFailuresAsAnAccount()
    {
        var account = await CreateAccountAsync("lockout");
        var knownAnswers = new List<string>();
        var unknownAnswers = new List<string>();
        for (var attempt = 0; attempt < 7; attempt++)
        {
            knownAnswers.Add((await SignInAsync(account, "wrong-" + attempt)).Answer.Error);
            unknownAnswers.Add((await SignInAsync("nobody-lockout", "wrong-" + attempt)).Answer.Error);
        }

        // Four "incorrect", then "locked" from the fifth failure on, for both.
        Assert.Equal(4, knownAnswers.Count(static a => a.Contains("incorrect", StringComparison.Ordinal)));
        Assert.All(knownAnswers.Skip(4), static a => Assert.Contains("locked", a, StringComparison.Ordinal));
        Assert.Equal(knownAnswers, unknownAnswers);
        // The right password does not open a locked account, and an unknown name answers the same.
        Assert.Equal((await SignInAsync(account, Password)).Answer.Error, (await SignInAsync("nobody-lockout", Password)).Answer.Error);
    }

    [Fact]
    public async Task UnknownNameAndWrongPassword_DoTheSameHashingWork_AndTakeSimilarTime()
    {
        const int Rounds = 9;
        var accounts = new List<string>();
        for (var i = 0; i < Rounds; i++)
        {
            accounts.Add(await CreateAccountAsync("timing-" + i));
        }

        var knownTimes = new List<double>();
        var unknownTimes = new List<double>();
        for (var i = 0; i < Rounds; i++)
        {
            // Interleaved, so that load on the machine affects both alike.
            var before = factory.Hasher.Verifications;
            var (_, knownTime) = await SignInAsync(accounts[i], "wrong-password");
            Assert.Equal(1, factory.Hasher.Verifications - before);

            before = factory.Hasher.Verifications;
            var (_, unknownTime) = await SignInAsync("nobody-timing-" + i, "wrong-password");
            Assert.Equal(1, factory.Hasher.Verifications - before);

            knownTimes.Add(knownTime.TotalMilliseconds);
            unknownTimes.Add(unknownTime.TotalMilliseconds);
        }

        // Both are dominated by the one hash verification; a missing one would be ~10x faster.
        var ratio = Median(knownTimes) / Median(unknownTimes);
        Assert.InRange(ratio, 1 / 2.5, 2.5);
    }

    private async Task<string> CreateAccountAsync(string name)
    {
        var userName = "enum-" + name;
        await factory.WithScopeAsync(async services =>
        {
            var result = await services.GetRequiredService<UserManager<ApplicationUser>>()
                .CreateAsync(new ApplicationUser { UserName = userName, Email = userName + "@example.com" }, Password);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(static e => e.Description)));
            return 0;
        });
        return userName;
    }

    private async Task<(Answer Answer, TimeSpan Elapsed)> SignInAsync(string login, string password)
    {
        using var client = factory.CreateOidcClient();
        using var page = await client.NavigateAsync("/Account/Login");
        var watch = Stopwatch.StartNew();
        using var response = await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = login, ["Input.Password"] = password });
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        var error = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(body).QuerySelector("#login-error")?.TextContent ?? "";
        return (new Answer(response.StatusCode, error, AntiforgeryToken().Replace(body, "TOKEN")), watch.Elapsed);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"[^\"]*\"")]
    private static partial Regex AntiforgeryToken();

    private sealed record Answer(HttpStatusCode Status, string Error, string Page);
}
