using IdentityServer.Admin;
using IdentityServer.Keys;
using IdentityServer.Localization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IdentityServer.Pages.Admin;

/// <summary>The signing keys and their states; rotate now, revoke a compromised key (the same service as the admin API).</summary>
internal sealed class KeysModel(IServiceProvider services, IOptions<KeyOptions> options) : PageModel
{
    public KeyOptions Options => options.Value;

    public bool Automatic => options.Value.Mode == KeyMode.Automatic;

    public IReadOnlyList<SigningKeyView> Keys { get; private set; } = [];

    public async Task OnGetAsync()
    {
        if (services.GetService<KeyRotation>() is { } rotation)
        {
            Keys = await rotation.ListAsync(HttpContext.RequestAborted);
        }
    }

    public async Task<IActionResult> OnPostRotateAsync()
    {
        if (services.GetService<KeyRotation>() is not { } rotation)
        {
            return NotFound();
        }
        var result = await rotation.RotateNowAsync(AdminAccess.Actor(User), CancellationToken.None);
        return Back(result.Done ? Texts.Get("The next key is published; it signs once it has been published for the set time.") : result.Problem!);
    }

    public async Task<IActionResult> OnPostRevokeAsync(string? keyId, string? confirmKeyId)
    {
        if (services.GetService<KeyRotation>() is not { } rotation || string.IsNullOrEmpty(keyId))
        {
            return NotFound();
        }
        if (!string.Equals(confirmKeyId?.Trim(), keyId, StringComparison.Ordinal))
        {
            return Back(Texts.Get("Type the key id exactly to confirm the revocation."));
        }
        var result = await rotation.RevokeAsync(keyId, AdminAccess.Actor(User), CancellationToken.None);
        return result switch
        {
            { Done: true } => Back(Texts.Get("The key {0} is revoked: it left the published keys on every node, and tokens it signed no longer validate.", keyId)),
            { Problem: "" } => NotFound(),
            _ => Back(result.Problem!),
        };
    }

    private RedirectToPageResult Back(string message)
    {
        TempData["AdminMessage"] = message;
        return RedirectToPage("/Admin/Keys");
    }
}
