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
                changes.Append(changes.Length == 0 ? "" : "; ").Append(field.Name).Append(": ")
                    .Append(Show(previous)).Append(" → ").Append(Show(field.Value));
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
}
