using System.ComponentModel.DataAnnotations;

namespace ClientSamples.Api.Validation;

/// <summary>The <c>Validation</c> section: which identity provider to trust and how to check its tokens.</summary>
internal sealed class ValidationSettings : IValidatableObject
{
    public const string Section = "Validation";

    [Required]
    public Uri Issuer { get; set; } = null!;

    /// <summary>The audience every accepted token must carry (a resource of the API's scope in the seed).</summary>
    [Required]
    public string Audience { get; set; } = "";

    /// <summary>The scope a caller needs for <c>/api/*</c>.</summary>
    [Required]
    public string RequiredScope { get; set; } = "";

    public ValidationMode Mode { get; set; } = ValidationMode.Introspection;

    /// <summary>The API's own credentials at the introspection endpoint (introspection mode only).</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>
    /// Seconds an active introspection answer is reused; 0 = off. A revoked token stays accepted for up to
    /// this long, so keep it short or off where revocation must take effect at once.
    /// </summary>
    [Range(0, 300)]
    public int IntrospectionCacheDuration { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Issuer.IsAbsoluteUri)
        {
            yield return new ValidationResult("Validation:Issuer must be an absolute URI.", [nameof(Issuer)]);
        }
        if (Mode == ValidationMode.Introspection && (string.IsNullOrEmpty(ClientId) || string.IsNullOrEmpty(ClientSecret)))
        {
            yield return new ValidationResult(
                "Validation:ClientId and Validation:ClientSecret are required in Introspection mode.",
                [nameof(ClientId), nameof(ClientSecret)]);
        }
    }
}
