using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ClientSamples.Api.Validation;

internal static class ValidationSetup
{
    /// <summary>
    /// Binds and validates the <c>Validation</c> section now, because OpenIddict is configured from it
    /// while services are still being registered; a bad value stops start-up with the reason.
    /// </summary>
    public static ValidationSettings AddValidationSettings(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ValidationSettings.Section);
        builder.Services.AddOptions<ValidationSettings>().Bind(section).ValidateDataAnnotations().ValidateOnStart();

        var settings = section.Get<ValidationSettings>() ?? new ValidationSettings();
        var results = new List<ValidationResult>();
        if (settings.Issuer is null || !Validator.TryValidateObject(settings, new ValidationContext(settings), results, validateAllProperties: true))
        {
            var failures = results.Select(r => r.ErrorMessage ?? "invalid value").DefaultIfEmpty("Validation:Issuer is required.");
            throw new OptionsValidationException(ValidationSettings.Section, typeof(ValidationSettings), failures);
        }
        return settings;
    }
}
