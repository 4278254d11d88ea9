using IdentityServer.Localization;
using System.ComponentModel.DataAnnotations;
using IdentityServer.Email;
using IdentityServer.RateLimiting;
using IdentityServer.Registration;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IdentityServer.Pages.Account;

/// <summary>
/// Self-registration, only when <c>Accounts:AllowRegistration</c> is on (404 otherwise) and mail can
/// be sent (the address must be verified before the account signs in). Posts are limited per client
/// address. A new address and one that already has an account get the same answer (see <see cref="Registrations"/>).
/// </summary>
internal sealed class RegisterModel(Registrations registrations, IOptions<RegistrationOptions> options, MailSender mail, RateLimiters limits) : PageModel
{
    [BindProperty]
    public RegisterInput Input { get; set; } = new();

    public bool MailAvailable => mail.IsEnabled;

    public bool Registered { get; private set; }

    public IReadOnlyList<string> Errors { get; private set; } = [];

    public IActionResult OnGet() => options.Value.AllowRegistration ? Page() : NotFound();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!options.Value.AllowRegistration)
        {
            return NotFound();
        }
        if (!MailAvailable)
        {
            return Page();
        }
        using (var lease = limits.AcquireRegistration(HttpContext))
        {
            if (!lease.IsAcquired)
            {
                var seconds = RateLimitResponses.Refuse(Response, lease);
                return Show(Texts.Get("Too many registrations from your network. Wait {0}, then try again.", RateLimitResponses.DescribeForReader(seconds)));
            }
        }
        if (!ModelState.IsValid)
        {
            Errors = [.. ModelState.Values.SelectMany(static v => v.Errors).Select(static e => e.ErrorMessage)];
            return Page();
        }
        // Not cancelled with the request: an account half made would be worse than a late answer.
        var (outcome, errors) = await registrations.RegisterAsync(Input.UserName, Input.Email, Input.Password, CancellationToken.None);
        switch (outcome)
        {
            case RegistrationOutcome.CheckYourMail:
                Registered = true;
                return Page();
            case RegistrationOutcome.UserNameTaken:
                return Show(Texts.Get("This user name is taken. Choose another one."));
            default:
                Errors = errors;
                return Page();
        }
    }

    private PageResult Show(string error)
    {
        Errors = [error];
        return Page();
    }

    public sealed class RegisterInput
    {
        [Required(ErrorMessage = "Choose a user name.")]
        [StringLength(256, ErrorMessage = "Too long: at most {1} characters.")]
        [RegularExpression(@"^[A-Za-z0-9\-._@+]+$", ErrorMessage = "A user name may hold letters, digits and - . _ @ + only.")]
        public string UserName { get; set; } = "";

        [Required(ErrorMessage = "Enter your e-mail address.")]
        [StringLength(256, ErrorMessage = "Too long: at most {1} characters.")]
        [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Choose a password.")]
        [StringLength(512, ErrorMessage = "Too long: at most {1} characters.")]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Compare(nameof(Password), ErrorMessage = "The passwords do not match.")]
        [DataType(DataType.Password)]
        public string ConfirmPassword { get; set; } = "";
    }
}
