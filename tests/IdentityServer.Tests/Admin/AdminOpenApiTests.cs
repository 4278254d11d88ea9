using System.Net;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Admin;

public sealed class AdminOpenApiTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    [Fact]
    public async Task OpenApi_Document_ListsOnlyTheAdminPathsWithTheirSecurity()
    {
        using var client = factory.CreateOidcClient();
        using var response = await client.Http.GetAsync(new Uri("/api/admin/openapi.json", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await AdminTestHelpers.JsonAsync(response);

        var paths = json.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/api/admin/users", "/api/admin/users/{userId}", "/api/admin/users/{userId}/sessions",
            "/api/admin/users/{userId}/sessions/{sessionId}", "/api/admin/users/{userId}/lock", "/api/admin/users/{userId}/unlock",
            "/api/admin/events", "/api/admin/statistics",
        }, paths);
        Assert.All(paths, p => Assert.StartsWith("/api/admin/", p, StringComparison.Ordinal));

        var schemes = json.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("oauth2", schemes.GetProperty("oauth2").GetProperty("type").GetString());
        Assert.True(schemes.GetProperty("oauth2").GetProperty("flows").GetProperty("clientCredentials").GetProperty("scopes").TryGetProperty("idp.admin", out _));
        var endSession = json.GetProperty("paths").GetProperty("/api/admin/users/{userId}/sessions/{sessionId}").GetProperty("delete");
        Assert.Equal("EndSession", endSession.GetProperty("operationId").GetString());
        Assert.True(endSession.GetProperty("responses").TryGetProperty("404", out _));
    }
}
