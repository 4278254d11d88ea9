using System.Net;
using System.Net.Http.Headers;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Authorization;

public sealed class ReferenceTokenTests(ReferenceTokenTests.Host factory) : IClassFixture<ReferenceTokenTests.Host>
{
    public sealed class Host : IdentityServerFactory
    {
        public Host()
        {
            Settings["IdentityServer:AccessTokenFormat"] = "Reference";
            Settings["IdentityServer:AccessTokenLifetime"] = "00:05:00";
        }
    }

    [Fact]
    public async Task ReferenceFormat_AccessToken_IsOpaqueAndIntrospectable()
    {
        using var client = factory.CreateOidcClient();
        var response = await client.ClientCredentialsAsync();
        Assert.Equal(HttpStatusCode.OK, response.Status);
        var token = response["access_token"]!;
        Assert.DoesNotContain('.', token);
        Assert.InRange(int.Parse(response["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 295, 300);

        var introspection = await client.IntrospectAsync(token);
        Assert.Equal("true", introspection["active"]);
        Assert.Equal(TestSeed.WorkerClientId, introspection["sub"]);
    }

    [Fact]
    public async Task ReferenceFormat_UserToken_WorksAtUserInfo()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync("openid profile");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens["access_token"]);
        using var response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

public sealed class LifetimeSettingsTests(LifetimeSettingsTests.Host factory) : IClassFixture<LifetimeSettingsTests.Host>
{
    public sealed class Host : IdentityServerFactory
    {
        public Host()
        {
            Settings["IdentityServer:AccessTokenLifetime"] = "00:02:00";
            Settings["IdentityServer:IdentityTokenLifetime"] = "00:03:00";
            Settings["IdentityServer:RefreshTokenLifetime"] = "01:00:00";
            Settings["Pruning:MinimumAge"] = "01:00:00";
        }
    }

    [Fact]
    public async Task Lifetimes_Configured_AreAppliedToIssuedTokens()
    {
        using var client = factory.CreateOidcClient();
        var tokens = await client.CodeFlowAsync();
        Assert.InRange(int.Parse(tokens["expires_in"]!, System.Globalization.CultureInfo.InvariantCulture), 115, 120);

        var id = Jwt.Payload(tokens["id_token"]!);
        Assert.Equal(180, id.GetProperty("exp").GetInt64() - id.GetProperty("iat").GetInt64());
        var access = Jwt.Payload(tokens["access_token"]!);
        Assert.Equal(120, access.GetProperty("exp").GetInt64() - access.GetProperty("iat").GetInt64());

        var lifetime = await factory.WithScopeAsync(async services =>
        {
            var context = services.GetRequiredService<IdentityServer.Data.ApplicationDbContext>();
            var entries = await context.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>().ToListAsync();
            var refresh = entries.SingleOrDefault(t => t.Type == OpenIddict.Abstractions.OpenIddictConstants.TokenTypeIdentifiers.RefreshToken) ?? throw new InvalidOperationException(string.Join(",", entries.Select(e => e.Type)));
            return refresh.ExpirationDate!.Value - refresh.CreationDate!.Value;
        });
        Assert.Equal(TimeSpan.FromHours(1), lifetime);
    }
}
