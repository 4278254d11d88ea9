using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Primitives;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// Collects the secrets a test host sees, for the log-secret checks: seed and configuration
/// secrets, and whatever sensitive value a request brought to the server or a response set
/// (passwords, client secrets, codes, tokens, Authorization headers, cookie values). Each value
/// is kept raw and URL-encoded.
/// </summary>
public sealed class SecretRecorder(Action<string>? onNew = null)
{
    /// <summary>Shorter values (a test's deliberately wrong "x") would match everywhere.</summary>
    private const int MinimumLength = 8;

    /// <summary>Request and response fields whose values are secrets.</summary>
    private static readonly HashSet<string> SensitiveFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_secret", "client_assertion", "assertion", "code", "code_verifier", "device_code", "user_code",
        "access_token", "refresh_token", "id_token", "id_token_hint", "logout_token", "token", "__RequestVerificationToken",
    };

    private readonly ConcurrentDictionary<string, byte> values = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> ignored = new(StringComparer.Ordinal);

    public ICollection<string> Values => values.Keys;

    /// <summary>
    /// Values that are not secrets even when sent in a secret's place: a fuzz test's fixed pool of
    /// mistyped values ("2024-13-45", "Infinity") goes into every kind of field, sensitive or not.
    /// </summary>
    public void Ignore(IEnumerable<string> notSecrets)
    {
        foreach (var value in notSecrets)
        {
            ignored.TryAdd(value, 0);
        }
    }

    public void Record(string? value)
    {
        if (value is null || value.Length < MinimumLength || value.Contains('\n', StringComparison.Ordinal) || ignored.ContainsKey(value))
        {
            return;
        }
        foreach (var form in new[] { value, WebUtility.UrlEncode(value), Uri.EscapeDataString(value) })
        {
            if (values.TryAdd(form, 0))
            {
                onNew?.Invoke(form);
            }
        }
    }

    /// <summary>
    /// Records configuration values whose keys name a password or secret: judged by the last segment,
    /// so the settings of a feature about passwords (<c>RateLimits:PasswordResetPerIp:Window</c>,
    /// <c>Accounts:PasswordResetLinkLifetime</c>) are not taken for one and then found in a start-up
    /// error that quotes their allowed range.
    /// </summary>
    public void RecordSettings(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        foreach (var (key, value) in settings)
        {
            var name = key[(key.LastIndexOf(':') + 1)..];
            if (IsSensitive(name) && !name.EndsWith("Lifetime", StringComparison.OrdinalIgnoreCase))
            {
                Record(value);
            }
        }
    }

    /// <summary>Records every client secret and password of a seed document.</summary>
    public void RecordSeed(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            Walk(document.RootElement);
        }
        catch (JsonException)
        {
            // A deliberately broken seed (seed validation tests) holds no secret to look for.
        }

        void Walk(JsonElement element)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.String && IsSensitive(property.Name))
                    {
                        Record(property.Value.GetString());
                    }
                    Walk(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item);
                }
            }
        }
    }

    /// <summary>A startup filter that runs first in the host and records what each request and response carries.</summary>
    public IStartupFilter StartupFilter() => new RecordingStartupFilter(this);

    private static bool IsSensitive(string name) =>
        SensitiveFields.Contains(name) || name.Contains("password", StringComparison.OrdinalIgnoreCase) || name.Contains("secret", StringComparison.OrdinalIgnoreCase);

    private void RecordFields(IEnumerable<KeyValuePair<string, StringValues>> fields)
    {
        foreach (var (name, fieldValues) in fields)
        {
            if (IsSensitive(name))
            {
                foreach (var value in fieldValues)
                {
                    Record(value);
                }
            }
        }
    }

    private void RecordAuthorization(StringValues header)
    {
        foreach (var value in header)
        {
            if (value is null)
            {
                continue;
            }
            var parts = value.Split(' ', 2, StringSplitOptions.TrimEntries);
            // A scheme alone ("Bearer ") carries no credential.
            if (parts is [_, ""])
            {
                continue;
            }
            Record(value);
            if (parts.Length != 2)
            {
                continue;
            }
            Record(parts[1]);
            if (parts[0].Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    var pair = Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])).Split(':', 2);
                    Record(pair.Length == 2 ? Uri.UnescapeDataString(pair[1]) : null);
                }
                catch (FormatException)
                {
                    // Not Basic credentials after all: the header value itself is recorded.
                }
            }
        }
    }

    private async Task RecordRequestAsync(HttpContext context)
    {
        var request = context.Request;
        RecordAuthorization(request.Headers.Authorization);
        foreach (var (_, value) in request.Cookies)
        {
            Record(value);
        }
        RecordFields(request.Query);
        // The raw body, read and rewound: reading the form here would bypass the server's own form limits.
        if (request.ContentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true
            && request.ContentLength is > 0 and <= 64 * 1024)
        {
            request.EnableBuffering();
            using (var reader = new StreamReader(request.Body, Encoding.UTF8, leaveOpen: true))
            {
                RecordFields(QueryHelpers.ParseQuery(await reader.ReadToEndAsync(context.RequestAborted)));
            }
            request.Body.Position = 0;
        }
        context.Response.OnStarting(static state =>
        {
            var (recorder, response) = ((SecretRecorder, HttpResponse))state;
            foreach (var cookie in response.Headers.SetCookie)
            {
                if (cookie?.Split(';', 2)[0].Split('=', 2) is [_, var value])
                {
                    recorder.Record(value);
                }
            }
            if (response.Headers.Location.ToString() is { Length: > 0 } location && Uri.TryCreate(new Uri("https://localhost"), location, out var uri))
            {
                recorder.RecordFields(QueryHelpers.ParseQuery(uri.Query));
                recorder.RecordFields(QueryHelpers.ParseQuery(uri.Fragment.TrimStart('#')));
            }
            return Task.CompletedTask;
        }, (this, context.Response));
    }

    private sealed class RecordingStartupFilter(SecretRecorder recorder) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                await recorder.RecordRequestAsync(context);
                await nextMiddleware(context);
            });
            next(app);
        };
    }
}
