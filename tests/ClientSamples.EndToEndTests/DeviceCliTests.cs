using System.Text.RegularExpressions;
using ClientSamples.EndToEndTests.Infrastructure;
using Microsoft.Playwright;

namespace ClientSamples.EndToEndTests;

/// <summary>
/// The device-flow CLI as a real process: it prints a URL and a code, a browser signs in and
/// approves (or denies) on the identity provider's verification page, and the CLI then calls the API.
/// </summary>
[Collection(SamplesDefinition.Name)]
public sealed partial class DeviceCliTests(SamplesFixture samples)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [BrowserFact]
    public async Task DeviceCli_UserEntersTheCodeAndAllows_CliCallsTheApi()
    {
        await using var cli = samples.StartDeviceCli();
        var code = await ReadCodeAsync(cli);

        await using var context = await samples.Browser.NewContextAsync();
        var page = await OpenVerificationPageAsync(context);
        await page.Locator("#user-code-input").FillAsync(code);
        await page.Locator("#submit-code").ClickAsync();
        await Assertions.Expect(page.Locator("#client-name")).ToHaveTextAsync("Sample device CLI");
        await Assertions.Expect(page.Locator("#user-code")).ToHaveTextAsync(code);
        await page.Locator("#accept").ClickAsync();
        await Assertions.Expect(page.Locator("#device-approved")).ToBeVisibleAsync();

        var output = await cli.WaitForOutputAsync(lines => lines.Any(l => l.StartsWith("API ", StringComparison.Ordinal)), Deadline);
        Assert.Contains(output, l => l.StartsWith($"Signed in as {SamplesFixture.UserName}", StringComparison.Ordinal));
        var api = Assert.Single(output, l => l.StartsWith("API ", StringComparison.Ordinal));
        Assert.StartsWith("API 200:", api, StringComparison.Ordinal);
        Assert.Contains("samples-api", api, StringComparison.Ordinal);
    }

    [BrowserFact]
    public async Task DeviceCli_UserDenies_CliSaysSoAndCallsNothing()
    {
        await using var cli = samples.StartDeviceCli();
        var code = await ReadCodeAsync(cli);

        await using var context = await samples.Browser.NewContextAsync();
        var page = await OpenVerificationPageAsync(context);
        await page.Locator("#user-code-input").FillAsync(code);
        await page.Locator("#submit-code").ClickAsync();
        await page.Locator("#deny").ClickAsync();
        await Assertions.Expect(page.Locator("#device-denied")).ToBeVisibleAsync();

        var output = await cli.WaitForOutputAsync(lines => lines.Any(l => l.Contains("denied", StringComparison.Ordinal)), Deadline);
        Assert.DoesNotContain(output, l => l.StartsWith("API ", StringComparison.Ordinal));
    }

    private async Task<string> ReadCodeAsync(AppProcess cli)
    {
        var lines = await cli.WaitForOutputAsync(lines => lines.Any(l => CodeLine().IsMatch(l)), Deadline);
        Assert.Contains(lines, l => l.Contains(new Uri(samples.Issuer, "connect/verify").AbsoluteUri, StringComparison.Ordinal));
        return CodeLine().Match(lines.First(l => CodeLine().IsMatch(l))).Groups["code"].Value;
    }

    /// <summary>A fresh browser (no session) opens the verification URL the CLI printed and signs in.</summary>
    private async Task<IPage> OpenVerificationPageAsync(IBrowserContext context)
    {
        context.SetDefaultTimeout(Chromium.DefaultTimeout);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(samples.Issuer, "connect/verify").AbsoluteUri);
        var login = new LoginPage(page);
        await login.WaitAsync();
        await login.SignInAsync(SamplesFixture.UserName, SamplesFixture.Password);
        await page.Locator("#user-code-input").WaitForAsync();
        return page;
    }

    [GeneratedRegex(@"^Code: (?<code>\S+)$")]
    private static partial Regex CodeLine();
}
