using IdentityServer.Admin;
using IdentityServer.Localization;
using IdentityServer.Seeding;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityServer.Pages.Admin.Clients;

/// <summary>
/// One client: its settings changed, its secrets rotated (a new one is shown once, in this response
/// only), disabled or enabled, deleted. The same service and rules as the admin API.
/// </summary>
internal sealed class EditModel(ClientManagement clients, ScopeManagement scopes, TimeProvider clock) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Id { get; set; } = "";

    [BindProperty]
    public ClientForm Form { get; set; } = new();

    public SeedClient Client { get; private set; } = null!;

    public IReadOnlyList<string> AvailableScopes { get; private set; } = [];

    public IReadOnlyList<ManagedSecret> Secrets { get; private set; } = [];

    public IReadOnlyList<string> Errors { get; private set; } = [];

    /// <summary>A secret just generated: shown in this response only.</summary>
    public NewSecret? Added { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync(fromClient: true) ? Page() : NotFound();

    public async Task<IActionResult> OnPostSaveAsync()
    {
        if (await clients.GetAsync(Id, HttpContext.RequestAborted) is not { } current)
        {
            return NotFound();
        }
        Form.ClientId = Id;
        Form.ClientType = current.ClientType ?? "confidential";
        var result = await clients.UpdateAsync(Id, Form.ToClient(current), AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.Done)
        {
            return Back(Texts.Get("The client's settings were saved. New requests follow them at once."));
        }
        Errors = result.Errors?.SelectMany(static e => e.Value).ToList() ?? [result.Problem ?? Texts.Get("The settings could not be saved.")];
        return await LoadAsync(fromClient: false) ? Page() : NotFound();
    }

    /// <summary>A new secret; the one in use keeps working for <paramref name="previousDays"/> more days (none: until it is removed).</summary>
    public async Task<IActionResult> OnPostAddSecretAsync(int? previousDays)
    {
        var previous = previousDays is > 0 and <= 365 ? clock.GetUtcNow().AddDays(previousDays.Value) : (DateTimeOffset?)null;
        var result = await clients.AddSecretAsync(Id, new AddSecretRequest(PreviousExpiresAt: previous), AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome == ManagementOutcome.NotFound)
        {
            return NotFound();
        }
        if (result.Outcome != ManagementOutcome.Done)
        {
            return Back(result.Problem ?? Texts.Get("No secret was added."));
        }
        Added = result.Added;
        Response.Headers.CacheControl = "no-store";
        return await LoadAsync(fromClient: true) ? Page() : NotFound();
    }

    /// <param name="entryId">The secret's id (not named "secret...": the field holds no secret).</param>
    public async Task<IActionResult> OnPostRemoveSecretAsync(string entryId)
    {
        var result = await clients.RemoveSecretAsync(Id, entryId ?? "", AdminAccess.Actor(User), CancellationToken.None);
        return result.Outcome == ManagementOutcome.Done
            ? Back(Texts.Get("The secret was removed: it no longer works, on any node."))
            : Back(result.Problem ?? Texts.Get("The secret was not removed."));
    }

    public Task<IActionResult> OnPostDisableAsync() => SetEnabledAsync(false, Texts.Get("The client is disabled: its requests are refused and what it held is revoked."));

    public Task<IActionResult> OnPostEnableAsync() => SetEnabledAsync(true, Texts.Get("The client is enabled again."));

    public async Task<IActionResult> OnPostDeleteAsync(string? confirmClientId)
    {
        // Deleting cannot be undone: the admin confirms by typing the client id.
        if (!string.Equals(confirmClientId?.Trim(), Id, StringComparison.Ordinal))
        {
            return Back(Texts.Get("Type the client id exactly to confirm the deletion."));
        }
        var result = await clients.DeleteAsync(Id, AdminAccess.Actor(User), CancellationToken.None);
        if (result.Outcome != ManagementOutcome.Done)
        {
            return NotFound();
        }
        TempData["AdminMessage"] = Texts.Get("The client {0} was deleted, with its grants and tokens.", Id);
        return RedirectToPage("/Admin/Clients/Index");
    }

    private async Task<IActionResult> SetEnabledAsync(bool enabled, string message) =>
        (await clients.SetEnabledAsync(Id, enabled, AdminAccess.Actor(User), CancellationToken.None)).Outcome == ManagementOutcome.Done
            ? Back(message)
            : NotFound();

    private RedirectToPageResult Back(string message)
    {
        TempData["AdminMessage"] = message;
        return RedirectToPage("/Admin/Clients/Edit", new { id = Id });
    }

    private async Task<bool> LoadAsync(bool fromClient)
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (await clients.GetAsync(Id, cancellationToken) is not { } client)
        {
            return false;
        }
        Client = client;
        if (fromClient)
        {
            Form = ClientForm.From(client);
        }
        AvailableScopes = await scopes.NamesAsync(cancellationToken);
        Secrets = client.ClientType == "public" ? [] : (await clients.ListSecretsAsync(Id, cancellationToken)).Secrets ?? [];
        return true;
    }
}
