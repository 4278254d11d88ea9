using System.Net;
using System.Net.Sockets;
using IdentityServer.Audit;
using IdentityServer.Tests.Infrastructure;
using IdentityServer.Tests.Sessions;
using MimeKit;
using static IdentityServer.Tests.Email.AccountMailSteps;

namespace IdentityServer.Tests.Email;

/// <summary>A host whose SMTP server is down: nothing listens on its port.</summary>
public sealed class SmtpDownFactory : IdentityServerFactory
{
    public SmtpDownFactory()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Settings["Email:Smtp:Host"] = "127.0.0.1";
        Settings["Email:Smtp:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["Email:Smtp:Security"] = "None";
        Settings["Email:Smtp:Timeout"] = "00:00:05";
        Settings["Email:From"] = "identity@example.test";
    }
}

/// <summary>A host whose SMTP server accepts connections and never answers (a minute before the client gives up).</summary>
public sealed class SilentSmtpFactory : IdentityServerFactory
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);

    public SilentSmtpFactory()
    {
        // The kernel completes connections up to the backlog; nothing ever reads or writes them.
        listener.Start();
        Settings["Email:Smtp:Host"] = "127.0.0.1";
        Settings["Email:Smtp:Port"] = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Settings["Email:Smtp:Security"] = "None";
        Settings["Email:Smtp:Timeout"] = "00:01:00";
        Settings["Email:From"] = "identity@example.test";
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        listener.Stop();
        listener.Dispose();
    }
}

/// <summary>The forgot-password answer never waits for the mail server, so its time tells nothing either.</summary>
public sealed class SilentSmtpTests(SilentSmtpFactory factory) : IClassFixture<SilentSmtpFactory>
{
    [Fact]
    public async Task ForgotPassword_MailServerHangs_KnownAndUnknownAccountsAnswerAtOnce()
    {
        var user = await CreateUserAsync(factory, "silent-smtp");
        using var client = factory.CreateOidcClient();
        foreach (var login in new[] { user.UserName!, "nobody-silent", user.UserName!, "nobody-silent-2" })
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var answer = await RequestResetAsync(client, login);
            watch.Stop();
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.NotNull((await OidcTestClient.ParseAsync(answer)).QuerySelector("#requested"));
            // The SMTP exchange would take a minute; the page takes what a lookup and one audit row take.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{login}: {watch.Elapsed}");
        }
    }
}

/// <summary>A failing SMTP server never shows as a 5xx: the same pages, the failure logged and audited.</summary>
public sealed class SmtpDownTests(SmtpDownFactory factory) : IClassFixture<SmtpDownFactory>
{
    [Fact]
    public async Task ForgotPassword_SmtpDown_SamePage_FailureLoggedAndAudited()
    {
        var user = await CreateUserAsync(factory, "smtp-down-reset");
        using var client = factory.CreateOidcClient();
        var answer = await RequestResetAsync(client, user.UserName!);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.NotNull((await OidcTestClient.ParseAsync(answer)).QuerySelector("#requested"));

        var failed = Assert.Single(await WaitForEventsAsync(factory, SecurityEventTypes.EmailSendFailed, user.Id));
        Assert.Equal("password_reset send_failed", failed.Detail);
        var logged = Assert.Single(factory.Logs.Entries, e => e.EventId.Id == 4301 && e.Text.Contains(user.Id, StringComparison.Ordinal));
        Assert.Contains("password_reset", logged.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("ResetPassword", logged.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmailPage_SmtpDown_SaysTheMailCouldNotBeSent_NoServerError()
    {
        var user = await CreateUserAsync(factory, "smtp-down-verify", emailVerified: false);
        using var client = factory.CreateOidcClient();
        await client.SignInThroughPortalAsync(user.UserName!, Password);
        var answer = await client.SubmitFormAsync(await client.NavigateAsync("/Account/Email"), "#verify-form");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("The mail could not be sent right now. Try again later.", (await OidcTestClient.ParseAsync(answer)).QuerySelector("#email-error")?.TextContent);
        Assert.Equal("email_verification send_failed", (await EventsAsync(factory, SecurityEventTypes.EmailSendFailed, user.Id)).Single().Detail);
        Assert.Empty(await EventsAsync(factory, SecurityEventTypes.EmailVerificationRequested, user.Id));
    }
}

/// <summary>Where mail goes without an SMTP server, and the start-up checks of the Email section.</summary>
public sealed class MailTransportTests
{
    [Fact]
    public async Task Development_WithoutSmtp_WritesEmlFiles_AndPrintsTheLinkOnTheConsole()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Development" };
        var user = await CreateUserAsync(factory, "dev-mail");
        var console = new StringWriter();
        var original = Console.Out;
        Console.SetOut(console);
        try
        {
            using var client = factory.CreateOidcClient();
            await RequestResetAsync(client, user.UserName!);
            var file = await WaitForFileAsync(factory.MailFolder);
            var mail = await MimeMessage.LoadAsync(file);
            Assert.Equal(user.Email, mail.To.Mailboxes.Single().Address);
            var link = TestMailServer.Link(mail);
            TestLogSink.RecordSecret(link.AbsoluteUri);
            Assert.Contains(link.AbsoluteUri, console.ToString(), StringComparison.Ordinal);
            // The log says where the file is, never the link.
            Assert.DoesNotContain(factory.Logs.Entries, e => e.Text.Contains(link.AbsoluteUri, StringComparison.Ordinal));
        }
        finally
        {
            Console.SetOut(original);
        }
    }

    [Fact]
    public async Task Production_WithoutSmtpOrPickupFolder_StartsWithAWarning_AndThePagesSayMailIsOff()
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings.Remove("Email:PickupFolder");
        using var client = factory.CreateOidcClient();
        var forgot = await client.NavigateAsync("/Account/ForgotPassword");
        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        var page = await OidcTestClient.ParseAsync(forgot);
        Assert.NotNull(page.QuerySelector("#mail-unavailable"));
        Assert.Empty(page.QuerySelectorAll("main form"));
        await client.SignInThroughPortalAsync();
        Assert.NotNull((await OidcTestClient.ParseAsync(await client.NavigateAsync("/Account/Email"))).QuerySelector("#mail-unavailable"));
        Assert.Contains(factory.Logs.Entries, static e => e.EventId.Id == 4304 && e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Theory]
    [InlineData("Email:Smtp:Security", "mail.example.com", "None", "Email:Smtp:Security None")]
    [InlineData("Email:From", "mail.example.com", "StartTls", "Email:From is required")]
    public void Production_UnsafeOrIncompleteSmtpSettings_StopStartup_NamingTheSetting(string setting, string host, string security, string message)
    {
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        factory.Settings["Email:Smtp:Host"] = host;
        factory.Settings["Email:Smtp:Security"] = security;
        if (setting != "Email:From")
        {
            factory.Settings["Email:From"] = "identity@example.com";
        }
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Production_PlainSmtpToALoopbackRelay_IsAllowed()
    {
        using var mail = new TestMailServer();
        using var factory = new IdentityServerFactory { EnvironmentName = "Production" };
        foreach (var (key, value) in mail.Settings)
        {
            factory.Settings[key] = value;
        }
        using var client = factory.CreateClient();
    }

    private static async Task<string> WaitForFileAsync(string folder)
    {
        var deadline = DateTime.UtcNow + TestMailServer.DefaultWait;
        while (DateTime.UtcNow < deadline)
        {
            if (Directory.Exists(folder) && Directory.GetFiles(folder, "*.eml") is [var file])
            {
                return file;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("No .eml file was written to " + folder);
    }
}
