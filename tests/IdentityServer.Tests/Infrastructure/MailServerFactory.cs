using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using MimeKit;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A host whose mail goes to its own <see cref="TestMailServer"/>. Every link received, and the
/// token in it (as sent and decoded), becomes a secret the logs must never hold: checked by
/// <see cref="SecretsInLogs"/> and by the log scan of a whole run.
/// </summary>
public class MailServerFactory : IdentityServerFactory
{
    private readonly List<string> secrets = [];

    public MailServerFactory()
    {
        Mail = new TestMailServer(RecordSecrets);
        foreach (var (key, value) in Mail.Settings)
        {
            Settings[key] = value;
        }
    }

    public TestMailServer Mail { get; }

    /// <summary>Findings of <see cref="LogSecretScan"/> over this host's log for every link and token it mailed.</summary>
    public IReadOnlyList<string> SecretsInLogs()
    {
        lock (secrets)
        {
            return LogSecretScan.Find(Logs.Entries, [.. secrets]);
        }
    }

    private void RecordSecrets(MimeMessage message)
    {
        foreach (var link in TestMailServer.Links(message))
        {
            var values = new List<string> { link.AbsoluteUri };
            if (QueryHelpers.ParseQuery(link.Query).TryGetValue("token", out var token))
            {
                values.Add(token.ToString());
                values.Add(Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(token.ToString())));
            }
            lock (secrets)
            {
                secrets.AddRange(values);
            }
            foreach (var value in values)
            {
                TestLogSink.RecordSecret(value);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Mail.Dispose();
        }
    }
}
