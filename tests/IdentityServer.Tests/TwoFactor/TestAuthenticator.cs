using IdentityServer.Tests.Infrastructure;
using OtpNet;

namespace IdentityServer.Tests.TwoFactor;

/// <summary>
/// An authenticator app in a test: the key read from the set-up page, and codes computed from it
/// (Otp.NET, independent of the server's code). A code is accepted once per time step, so each
/// <see cref="NextCodeAsync"/> is for a step after the last one handed out: the current step, or
/// one of the next two that the server also accepts, waiting only when those are used up too.
/// </summary>
internal sealed class TestAuthenticator
{
    private const int StepSeconds = 30;
    private const int StepsAhead = 2;

    private readonly Totp totp;
    private long lastStep;

    public TestAuthenticator(string key)
    {
        Key = key;
        totp = new Totp(Base32Encoding.ToBytes(key));
        TestLogSink.RecordSecret(key);
    }

    /// <summary>The key as the server stores it (upper case, no spaces).</summary>
    public string Key { get; }

    /// <summary>The last code handed out (to replay it).</summary>
    public string LastCode { get; private set; } = "";

    /// <summary>Reads the key as the set-up page shows it: lower case, in groups of four.</summary>
    public static TestAuthenticator FromPage(string shownKey) =>
        new(new string([.. shownKey.Where(static c => !char.IsWhiteSpace(c))]).ToUpperInvariant());

    public static long CurrentStep => DateTimeOffset.UtcNow.ToUnixTimeSeconds() / StepSeconds;

    public async Task<string> NextCodeAsync()
    {
        var step = Math.Max(CurrentStep, lastStep + 1);
        while (step > CurrentStep + StepsAhead)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        lastStep = step;
        LastCode = CodeFor(step);
        return LastCode;
    }

    /// <summary>The code for a time step, whether or not the server would accept it now.</summary>
    public string CodeFor(long step) => totp.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * StepSeconds).UtcDateTime);

    /// <summary>A six-digit code that is none of the codes the server accepts now.</summary>
    public string WrongCode()
    {
        var accepted = Enumerable.Range(-3, 7).Select(offset => CodeFor(CurrentStep + offset)).ToHashSet();
        for (var candidate = 0; ; candidate++)
        {
            var code = candidate.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
            if (!accepted.Contains(code))
            {
                return code;
            }
        }
    }
}
