using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace IdentityServer.Authorization;

/// <summary>
/// A client's public keys (a JWK Set, RFC 7517), with which it authenticates by signing a client
/// assertion (<c>private_key_jwt</c>, RFC 7523 2.2, OpenID Connect Core 9). OpenIddict checks the
/// assertion against the application's key set; this reads and checks the set as the seed file and the
/// admin API give it, and writes it back in the same shape.
/// </summary>
internal static class ClientKeys
{
    public const int MaxKeys = 10;

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private static readonly string[] Curves = ["P-256", "P-384", "P-521"];

    private const int MinRsaBits = 2048;

    /// <summary>
    /// The size of an RSA modulus given as base64url (RFC 7518 6.3.1.1), in bits: leading zero bytes and bits not
    /// counted, so a short key padded to look long is still short; 0 when it is not base64url.
    /// </summary>
    internal static int ModulusBits(string? modulus)
    {
        byte[] bytes;
        try
        {
            bytes = string.IsNullOrEmpty(modulus) ? [] : Base64UrlEncoder.DecodeBytes(modulus);
        }
        catch (FormatException)
        {
            return 0;
        }
        var first = Array.FindIndex(bytes, static b => b != 0);
        return first < 0 ? 0 : ((bytes.Length - first - 1) * 8) + (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)bytes[first]));
    }

    /// <summary>What is wrong with a key set, one sentence each (none: it is usable).</summary>
    public static List<string> Problems(JsonElement set)
    {
        var problems = new List<string>();
        if (set.ValueKind != JsonValueKind.Object || !set.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            problems.Add("must be a JWK Set: an object with a \"keys\" array.");
            return problems;
        }
        if (keys.GetArrayLength() is 0 or > MaxKeys)
        {
            problems.Add($"must hold from 1 to {MaxKeys} keys.");
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var key in keys.EnumerateArray())
        {
            var name = $"keys[{index++}]";
            if (key.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"{name} is not a JSON object.");
                continue;
            }
            // Member names compared without case: the key parser reads "D" as "d".
            if (key.EnumerateObject().Select(static m => m.Name).FirstOrDefault(name => PrivateMembers.Contains(name, StringComparer.OrdinalIgnoreCase)) is { } member)
            {
                problems.Add($"{name} holds private key material (\"{member}\"): register the public key only, the private key never leaves the client.");
                continue;
            }
            var type = Text(key, "kty");
            var complete = type switch
            {
                "RSA" => ModulusBits(Text(key, "n")) >= MinRsaBits && Text(key, "e") is not null,
                "EC" => Curves.Contains(Text(key, "crv")) && Text(key, "x") is not null && Text(key, "y") is not null,
                _ => false,
            };
            if (!complete)
            {
                problems.Add($"{name} must be an RSA key of 2,048 bits or more (kty, n, e) or an EC key on P-256, P-384 or P-521 (kty, crv, x, y).");
            }
            if (Text(key, "use") is { } use && use != "sig")
            {
                problems.Add($"{name} has \"use\": \"{use}\"; a client's key signs (\"sig\").");
            }
            if (Text(key, "kid") is { } kid && !ids.Add(kid))
            {
                problems.Add($"{name} repeats the kid \"{kid}\".");
            }
        }
        if (problems.Count == 0)
        {
            try
            {
                if (Parse(set).Keys.Any(static k => !string.IsNullOrEmpty(k.D) || !string.IsNullOrEmpty(k.P) || !string.IsNullOrEmpty(k.Q)
                    || !string.IsNullOrEmpty(k.DP) || !string.IsNullOrEmpty(k.DQ) || !string.IsNullOrEmpty(k.QI) || !string.IsNullOrEmpty(k.K) || k.Oth.Count > 0))
                {
                    problems.Add("holds private key material: register the public keys only, the private key never leaves the client.");
                }
            }
            catch (ArgumentException exception)
            {
                problems.Add("cannot be read: " + exception.Message);
            }
        }
        return problems;
    }

    public static JsonWebKeySet Parse(JsonElement set) => JsonWebKeySet.Create(set.GetRawText());

    /// <summary>The set as stored: only the public members of each key, whatever else the input held.</summary>
    public static JsonWebKeySet PublicOnly(JsonElement set) => Parse(ToJson(Parse(set)));

    /// <summary>The public members of each key, in a fixed order (for the export, the admin API and comparisons).</summary>
    public static JsonElement ToJson(JsonWebKeySet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var keys = set.Keys.Select(static key =>
        {
            var members = new Dictionary<string, string>(StringComparer.Ordinal) { ["kty"] = key.Kty };
            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    members[name] = value;
                }
            }
            Add("kid", key.Kid);
            Add("use", key.Use);
            Add("alg", key.Alg);
            Add("n", key.N);
            Add("e", key.E);
            Add("crv", key.Crv);
            Add("x", key.X);
            Add("y", key.Y);
            return members;
        }).ToList();
        return JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["keys"] = keys });
    }

    public static bool Same(JsonWebKeySet? first, JsonWebKeySet? second) =>
        first is null || second is null ? first is null && second is null : JsonElement.DeepEquals(ToJson(first), ToJson(second));

    private static string? Text(JsonElement key, string name) =>
        key.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
