using System.Text;
using System.Text.Json;

namespace IdentityServer.Admin;

/// <summary>
/// What changed between two versions of a client's or a scope's settings (in the seed file's shape),
/// for the audit trail: each changed field with its old and new value (<c>displayName: "Shop" → "Store"</c>).
/// Secrets are never part of it.
/// </summary>
internal static class SettingChanges
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Describe<T>(T before, T after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new StringBuilder();
        var old = JsonSerializer.SerializeToElement(before, Json);
        var now = JsonSerializer.SerializeToElement(after, Json);
        foreach (var field in now.EnumerateObject().Where(static f => f.Name is not ("clientSecret" or "clientSecrets")))
        {
            var previous = old.TryGetProperty(field.Name, out var value) ? value : default;
            if (!JsonElement.DeepEquals(previous, field.Value) && !(Empty(previous) && Empty(field.Value)))
            {
                var keys = field.Name == "jsonWebKeySet";
                changes.Append(changes.Length == 0 ? "" : "; ").Append(field.Name).Append(": ")
                    .Append(keys ? ShowKeys(previous) : Show(previous)).Append(" → ").Append(keys ? ShowKeys(field.Value) : Show(field.Value));
            }
        }
        return changes.Length == 0 ? "no change" : changes.ToString();
    }

    private static bool Empty(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => true,
        JsonValueKind.Array => value.GetArrayLength() == 0,
        JsonValueKind.Object => !value.EnumerateObject().Any(),
        _ => false,
    };

    private static string Show(JsonElement value) => Empty(value) ? "none" : value.GetRawText();

    /// <summary>A client's public keys by their ids (the keys themselves are long and say nothing to a reader).</summary>
    private static string ShowKeys(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty("keys", out var keys) && keys.ValueKind == JsonValueKind.Array
            ? "[" + string.Join(", ", keys.EnumerateArray().Select(static (k, i) =>
                k.ValueKind == JsonValueKind.Object && k.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String ? kid.GetString() : $"#{i + 1}")) + "]"
            : Show(value);
}
