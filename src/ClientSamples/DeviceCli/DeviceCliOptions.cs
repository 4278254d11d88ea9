using System.ComponentModel.DataAnnotations;

namespace ClientSamples.DeviceCli;

/// <summary>Bound from the <c>DeviceCli</c> configuration section (appsettings.json or <c>--DeviceCli:Issuer=...</c>).</summary>
internal sealed class DeviceCliOptions
{
    [Required]
    public Uri Issuer { get; set; } = null!;

    [Required]
    public string ClientId { get; set; } = "";

    public List<string> Scopes { get; set; } = [];

    [Required]
    public Uri ApiUrl { get; set; } = null!;
}
