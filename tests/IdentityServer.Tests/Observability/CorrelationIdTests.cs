using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Observability;

public sealed class CorrelationIdTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private const string Header = "X-Correlation-Id";

    /// <summary>A failed sign-in: the request writes a security event (event 4100) to the log.</summary>
    private async Task<HttpResponseMessage> FailSignInAsync(string? correlationId)
    {
        using var client = factory.CreateOidcClient();
        var page = await client.NavigateAsync("/Account/Login");
        if (correlationId is not null)
        {
            client.Http.DefaultRequestHeaders.Add(Header, correlationId);
        }
        return await client.SubmitAsync(page, new Dictionary<string, string> { ["Input.Login"] = TestSeed.UserName, ["Input.Password"] = "not-the-password" });
    }

    private string[] SecurityEventCorrelationIds() =>
        [.. factory.Logs.Entries.Where(static e => e.EventId.Id == 4100).Select(static e => e.Scope("CorrelationId") ?? "(none)")];

    [Fact]
    public async Task CorrelationId_CallerSendsPlainId_IsEchoedAndCarriedByTheRequestsLogLines()
    {
        var id = "order-" + Guid.NewGuid().ToString("N")[..12];
        using var response = await FailSignInAsync(id);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id, Assert.Single(response.Headers.GetValues(Header)));
        Assert.Contains(id, SecurityEventCorrelationIds());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("has spaces and <markup>")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task CorrelationId_NoneOrUnsafe_IsTheW3CTraceId(string? sent)
    {
        using var response = await FailSignInAsync(sent);

        var id = Assert.Single(response.Headers.GetValues(Header));
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Contains(id, SecurityEventCorrelationIds());
        if (sent is not null)
        {
            Assert.DoesNotContain(factory.Logs.Entries, e => e.Text.Contains(sent, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CorrelationId_ProtocolErrorResponse_CarriesTheHeader()
    {
        using var client = factory.CreateOidcClient();
        client.Http.DefaultRequestHeaders.Add(Header, "abc.123_x-y");
        var response = await client.TokenAsync(("grant_type", "client_credentials"), ("client_id", "nobody"), ("client_secret", "x"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal("abc.123_x-y", Assert.Single(response.Message.Headers.GetValues(Header)));
    }
}
