using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

public sealed class AdminEventsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private static readonly DateTimeOffset Day = new(2021, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private Task<int> AddEventsAsync(params SecurityEvent[] events) => factory.WithScopeAsync(async services =>
    {
        var database = services.GetRequiredService<ApplicationDbContext>();
        database.SecurityEvents.AddRange(events);
        return await database.SaveChangesAsync();
    });

    private static SecurityEvent Event(string type, string userId, DateTimeOffset at) =>
        new() { Timestamp = at, Type = type, UserId = userId, UserName = userId };

    private async Task<List<(string Type, string? User, DateTimeOffset At)>> QueryAsync(string query)
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/events?" + query, await AdminTokenAsync(client));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await JsonAsync(response)).EnumerateArray().Select(e => (
            e.GetProperty("type").GetString()!, e.GetProperty("userId").GetString(), e.GetProperty("timestamp").GetDateTimeOffset()))];
    }

    [Fact]
    public async Task Events_FilterByUserTypeAndTime_ReturnsExactlyTheMatchesNewestFirst()
    {
        await AddEventsAsync(
            Event(SecurityEventTypes.SignInSucceeded, "ev-user-1", Day.AddHours(1)),
            Event(SecurityEventTypes.SignInFailed, "ev-user-1", Day.AddHours(2)),
            Event(SecurityEventTypes.SignInSucceeded, "ev-user-1", Day.AddHours(3)),
            Event(SecurityEventTypes.SignInSucceeded, "ev-user-2", Day.AddHours(2)),
            Event(SecurityEventTypes.SignInSucceeded, "ev-user-1", Day.AddDays(1).AddHours(1)));

        var byUser = await QueryAsync("userId=ev-user-1");
        Assert.Equal([Day.AddDays(1).AddHours(1), Day.AddHours(3), Day.AddHours(2), Day.AddHours(1)], byUser.Select(e => e.At));

        var byType = await QueryAsync("userId=ev-user-1&type=sign_in_succeeded");
        Assert.Equal(3, byType.Count);
        Assert.All(byType, e => Assert.Equal(SecurityEventTypes.SignInSucceeded, e.Type));

        var window = await QueryAsync($"type=sign_in_succeeded&from={Uri.EscapeDataString(Day.AddHours(2).ToString("O"))}&to={Uri.EscapeDataString(Day.AddDays(1).ToString("O"))}");
        Assert.Equal([("ev-user-1", Day.AddHours(3)), ("ev-user-2", Day.AddHours(2))], window.Select(e => (e.User!, e.At)));

        var limited = await QueryAsync("userId=ev-user-1&limit=2");
        Assert.Equal([Day.AddDays(1).AddHours(1), Day.AddHours(3)], limited.Select(e => e.At));
    }

    [Theory]
    [InlineData("type=no_such_type")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("from=2021-03-02T00:00:00Z&to=2021-03-01T00:00:00Z")]
    [InlineData("from=yesterday")]
    [InlineData("limit=many")]
    public async Task Events_BadQuery_Returns400ProblemDetails(string query)
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/events?" + query, await AdminTokenAsync(client));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(400, (await JsonAsync(response)).GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("/api/admin/users?page=0")]
    [InlineData("/api/admin/users?pageSize=101")]
    [InlineData("/api/admin/statistics?interval=week")]
    public async Task OtherEndpoints_BadQuery_Returns400ProblemDetails(string path)
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, path, await AdminTokenAsync(client));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
