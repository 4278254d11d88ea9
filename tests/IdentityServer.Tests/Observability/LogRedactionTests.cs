using IdentityServer.Observability;
using IdentityServer.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace IdentityServer.Tests.Observability;

public sealed class LogRedactionTests
{
    [Theory]
    [InlineData("GET https://localhost/connect/endsession?id_token_hint=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln&post_logout_redirect_uri=x",
        "GET https://localhost/connect/endsession?id_token_hint=[redacted]&post_logout_redirect_uri=x")]
    [InlineData("GET https://localhost/connect/verify?user_code=4467-9123", "GET https://localhost/connect/verify?user_code=[redacted]")]
    [InlineData("POST https://localhost/connect/verify?USER_CODE%C3=FWPV-DCSJ&code_challenge=abc", "POST https://localhost/connect/verify?USER_CODE%C3=[redacted]&code_challenge=abc")]
    [InlineData("{ \"Input.Password\": \"a\\\":b\\\\\", \"state\": \"s\" }", "{ \"Input.Password\": \"[redacted]\", \"state\": \"s\" }")]
    [InlineData("{ \"client_secret\": [ \"a]b\", \"c\" ], \"state\": \"s\" }", "{ \"client_secret\": [[redacted]], \"state\": \"s\" }")]
    [InlineData("{ \"{\\\"user_code\\\":%ZMDG-TVDX,\\\"decision\\\":\\\"accept\\\"}\": \"\" }", "{ \"{\\\"user_code\\\":[redacted],\\\"decision\\\":\\\"accept\\\"}\": \"\" }")]
    [InlineData("{ \"{\\\"client_id\\\":\\\"w\\\",\\\"client_secret%ZZ\\\":worker-secret-0123}\": \"\" }", "{ \"{\\\"client_id\\\":\\\"w\\\",\\\"client_secret%ZZ\\\":[redacted]}\": \"\" }")]
    [InlineData("{   \"UsEr_cOdE%Z\": \"MWDK-QMCH\", \"code_challenge_method\": \"S256\" }", "{   \"UsEr_cOdE%Z\": \"[redacted]\", \"code_challenge_method\": \"S256\" }")]
    [InlineData("{ \"device_code\": [ \"lGNtYGKWDwfbgD9D\", \"lGNtYGKWDwfbgD9D\" ], \"client_id\": \"tv\" }",
        "{ \"device_code\": [[redacted]], \"client_id\": \"tv\" }")]
    [InlineData("{ \"{\\\"grant_type\\\":\\\"x\\\",\\\"device_code\\\":\\\"lGNtYGKWDwfbgD9D\\\"}\": \"\" }",
        "{ \"{\\\"grant_type\\\":\\\"x\\\",\\\"device_code\\\":\\\"[redacted]\\\"}\": \"\" }")]
    [InlineData("GET https://localhost/connect/authorize?client_id=spa&Input.Password=hunter22&code_challenge=abc",
        "GET https://localhost/connect/authorize?client_id=spa&Input.Password=[redacted]&code_challenge=abc")]
    [InlineData("{ \"client_secret + \": \"worker-secret-0123\", \"token%Z\": \"wsrghNquer0TgRL5\" }",
        "{ \"client_secret + \": \"[redacted]\", \"token%Z\": \"[redacted]\" }")]
    [InlineData("/Account/Login?ReturnUrl=%2Fconnect%2Fverify%3Fuser_code%3D4467-9123%26x%3D1", "/Account/Login?ReturnUrl=%2Fconnect%2Fverify%3Fuser_code%3D[redacted]%26x%3D1")]
    [InlineData("{ \"code_verifier\": \"w3bRv36DonOae3KhA0JhvE05LvW2GamQw5ZMgwEIjMU\", \"client_id\": \"shop\" }", "{ \"code_verifier\": \"[redacted]\", \"client_id\": \"shop\" }")]
    [InlineData("\"__RequestVerificationToken\": \"CfDJ8abc_def-ghi\"", "\"__RequestVerificationToken\": \"[redacted]\"")]
    [InlineData("Authorization: Basic c2hvcDpzaG9wLXNlY3JldA==", "Authorization: Basic [redacted]")]
    [InlineData("The reference identifier (qjX3KDx9aB) was attached", "The reference identifier ([redacted]) was attached")]
    public void Redact_SensitiveValue_IsMasked(string text, string expected) =>
        Assert.Equal(expected, LogRedaction.Redact(text));

    [Theory]
    [InlineData("Security event SignInFailed: user 42, client shop, detail wrong_password.")]
    [InlineData("{ \"code\": \"[redacted]\", \"response_type\": \"code\" }")]
    [InlineData("GET https://localhost/connect/authorize?client_id=shop&response_type=code&code_challenge=abc")]
    public void Redact_NothingSensitive_ReturnsTheSameText(string text) =>
        Assert.Same(text, LogRedaction.Redact(text));

    [Fact]
    public void Log_MessageThatCannotBeFormatted_IsWrittenAsAPlaceholder_WithoutThrowing()
    {
        var captured = new CapturingLoggerProvider();
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(captured)));
        var logger = factory.CreateLogger("Test");

        // As ASP.NET Core's "Request starting" line does when it writes a Host header whose punycode
        // is broken: the text is made only when a provider writes the record, and making it throws.
        logger.Log(LogLevel.Information, new EventId(1, "RequestStarting"), "xn--lcalhost-1xa", null,
            static (state, _) => HostString.FromUriComponent(state).Value!);

        var entry = Assert.Single(captured.Entries);
        Assert.Equal(1, entry.EventId.Id);
        Assert.Equal("[this message could not be written: ArgumentException]", entry.Message);
    }

    /// <summary>
    /// An exception's own text is written by every provider (console, JSON, OpenTelemetry): Kestrel's bad-request
    /// exception quotes the request line, so a token in the query string reached the log through it.
    /// </summary>
    [Fact]
    public void Log_ExceptionQuotingAToken_IsWrittenMasked_WithItsTypeAndStackTrace()
    {
        var captured = new CapturingLoggerProvider { MinimumLevel = LogLevel.Debug };
        using var factory = new RedactingLoggerFactory(LoggerFactory.Create(logging => logging.AddProvider(captured).SetMinimumLevel(LogLevel.Debug)));
        var logger = factory.CreateLogger("Test");
        const string Token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl";
        Exception thrown;
        try
        {
            throw new InvalidOperationException($"Invalid request target: '/connect/endsession?id_token_hint={Token}'");
        }
        catch (InvalidOperationException exception)
        {
            thrown = exception;
        }
        var harmless = new InvalidOperationException("Nothing to hide here.");

        logger.LogDebug(thrown, "Bad request data.");
        logger.LogDebug(harmless, "Another one.");

        var written = captured.Entries.ToArray();
        Assert.Equal(2, written.Length);
        Assert.DoesNotContain(Token, written[0].Exception, StringComparison.Ordinal);
        Assert.Contains("System.InvalidOperationException: Invalid request target: '/connect/endsession?id_token_hint=[redacted]", written[0].Exception, StringComparison.Ordinal);
        Assert.Contains(nameof(Log_ExceptionQuotingAToken_IsWrittenMasked_WithItsTypeAndStackTrace), written[0].Exception, StringComparison.Ordinal);
        Assert.Equal(harmless.ToString(), written[1].Exception);
        // What a provider that reads the parts (OpenTelemetry: message, stack trace) gets.
        var masked = RedactingLoggerFactory.RedactedException.Of(thrown)!;
        Assert.DoesNotContain(Token, masked.Message, StringComparison.Ordinal);
        Assert.Equal(thrown.StackTrace, masked.StackTrace);
        Assert.Same(harmless, RedactingLoggerFactory.RedactedException.Of(harmless));
    }

    [Theory]
    [InlineData("?token", 20_000)]
    [InlineData("&password", 10_000)]
    [InlineData("\"token", 20_000)]
    [InlineData("%26secret", 10_000)]
    public void Redact_HostileRepetition_IsScannedToTheEnd(string unit, int repeat)
    {
        // Request lines and form values are the attacker's text, and every logged record is scanned:
        // the patterns must stay linear (no match timeout) on repetitions built to make them backtrack.
        var text = "GET /connect/authorize" + string.Concat(Enumerable.Repeat(unit, repeat)) + "&token=leaked-value";
        var redacted = LogRedaction.Redact(text);
        Assert.NotEqual(LogRedaction.TooComplex, redacted);
        Assert.DoesNotContain("leaked-value", redacted, StringComparison.Ordinal);
    }
}
