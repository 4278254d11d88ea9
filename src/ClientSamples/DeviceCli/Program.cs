// A command-line app that signs a user in with the device authorization grant (RFC 8628): it shows
// a URL and a code, the user approves on any browser, the app polls until the identity provider
// answers, then calls the API with the access token. A public client: it holds no secret.
using System.Net.Http.Headers;
using ClientSamples.DeviceCli;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Client;
using static OpenIddict.Abstractions.OpenIddictConstants;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddOptions<DeviceCliOptions>().Bind(builder.Configuration.GetSection("DeviceCli")).ValidateDataAnnotations().ValidateOnStart();
var settings = builder.Configuration.GetSection("DeviceCli").Get<DeviceCliOptions>()
    ?? throw new InvalidOperationException("The DeviceCli configuration section is missing.");

builder.Services.AddOpenIddict().AddClient(options =>
{
    options.AllowDeviceAuthorizationFlow().AllowRefreshTokenFlow();
    // Nothing is kept between runs: the keys only protect this process's own state.
    options.AddEphemeralEncryptionKey().AddEphemeralSigningKey();
    options.DisableTokenStorage();
    options.UseSystemNetHttp().SetProductInformation(typeof(DeviceCliOptions).Assembly);

    var registration = new OpenIddictClientRegistration { Issuer = settings.Issuer, ClientId = settings.ClientId };
    registration.Scopes.UnionWith(settings.Scopes);
    options.AddRegistration(registration);
});

using var host = builder.Build();
var options = host.Services.GetRequiredService<IOptions<DeviceCliOptions>>().Value;
var service = host.Services.GetRequiredService<OpenIddictClientService>();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancellation.Cancel(); };

try
{
    var device = await service.ChallengeUsingDeviceAsync(new() { CancellationToken = cancellation.Token });
    Console.WriteLine($"To sign in, open {device.VerificationUri} and enter the code {device.UserCode}");
    if (device.VerificationUriComplete is { } complete)
    {
        Console.WriteLine($"or open {complete}");
    }
    Console.WriteLine($"Code: {device.UserCode}");
    Console.WriteLine("Waiting for you to approve...");

    // OpenIddict polls at the interval the server asked for and slows down when told to.
    var tokens = await service.AuthenticateWithDeviceAsync(new()
    {
        DeviceCode = device.DeviceCode,
        Interval = device.Interval,
        Timeout = device.ExpiresIn,
        CancellationToken = cancellation.Token,
    });
    Console.WriteLine($"Signed in as {tokens.Principal.FindFirst(Claims.PreferredUsername)?.Value ?? tokens.Principal.FindFirst(Claims.Subject)?.Value}.");

    using var http = new HttpClient();
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
    using var response = await http.GetAsync(options.ApiUrl, cancellation.Token);
    Console.WriteLine($"API {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation.Token)}");
    return response.IsSuccessStatusCode ? 0 : 3;
}
catch (OpenIddictExceptions.ProtocolException exception) when (exception.Error == Errors.AccessDenied)
{
    Console.Error.WriteLine("The sign-in was denied.");
    return 2;
}
catch (OpenIddictExceptions.ProtocolException exception) when (exception.Error == Errors.ExpiredToken)
{
    Console.Error.WriteLine("The code expired before it was approved. Run the command again.");
    return 2;
}
catch (OpenIddictExceptions.ProtocolException exception)
{
    Console.Error.WriteLine($"The identity provider refused: {exception.Error} {exception.ErrorDescription}");
    return 1;
}
catch (HttpRequestException exception)
{
    Console.Error.WriteLine($"Could not reach the server: {exception.Message}");
    return 1;
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("Cancelled.");
    return 130;
}
