using System.Net;
using IdentityServer.Audit;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static IdentityServer.Tests.Admin.AdminTestHelpers;

namespace IdentityServer.Tests.Admin;

public sealed class AdminStatisticsTests(IdentityServerFactory factory) : IClassFixture<IdentityServerFactory>
{
    private async Task<System.Text.Json.JsonElement> StatisticsAsync(string query = "")
    {
        using var client = factory.CreateOidcClient();
        using var response = await SendAsync(client.Http, HttpMethod.Get, "/api/admin/statistics" + query, await AdminTokenAsync(client));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    [Fact]
    public async Task Statistics_RealSignIns_CountsActiveSessionsSuccessesAndFailures()
    {
        using (var first = factory.CreateOidcClient())
        {
            await first.SignInThroughPortalAsync();
        }
        using (var second = factory.CreateOidcClient())
        {
            await second.SignInThroughPortalAsync(TestSeed.SecondUserName, TestSeed.SecondUserPassword);
        }
        using (var failing = factory.CreateOidcClient())
        {
            Assert.False(await TrySignInAsync(failing, TestSeed.SecondUserName, "wrong-password"));
        }

        var statistics = await StatisticsAsync();
        Assert.Equal(2, statistics.GetProperty("activeSessions").GetInt32());
        Assert.Equal(2, statistics.GetProperty("signInsSucceeded").GetInt32());
        Assert.Equal(1, statistics.GetProperty("signInsFailed").GetInt32());
        Assert.Equal("day", statistics.GetProperty("interval").GetString());
        var buckets = statistics.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(7, buckets.Count);
        Assert.Equal(2, buckets[^1].GetProperty("succeeded").GetInt32());
        Assert.Equal(1, buckets[^1].GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task Statistics_KnownEventsPerHour_CountsEachBucket()
    {
        var start = new DateTimeOffset(2022, 6, 1, 10, 0, 0, TimeSpan.Zero);
        await factory.WithScopeAsync(async services =>
        {
            var database = services.GetRequiredService<ApplicationDbContext>();
            foreach (var (type, minutes) in new[]
            {
                (SecurityEventTypes.SignInSucceeded, 5), (SecurityEventTypes.SignInSucceeded, 59), (SecurityEventTypes.SignInFailed, 30),
                (SecurityEventTypes.SignInFailed, 61), (SecurityEventTypes.SignInSucceeded, 150), (SecurityEventTypes.LockedOut, 10),
                (SecurityEventTypes.SignInSucceeded, 180),
            })
            {
                database.SecurityEvents.Add(new SecurityEvent { Timestamp = start.AddMinutes(minutes), Type = type, UserId = "stats-user" });
            }
            return await database.SaveChangesAsync();
        });

        var from = Uri.EscapeDataString(start.ToString("O"));
        var to = Uri.EscapeDataString(start.AddHours(3).ToString("O"));
        var statistics = await StatisticsAsync($"?interval=hour&from={from}&to={to}");
        var buckets = statistics.GetProperty("buckets").EnumerateArray()
            .Select(b => (b.GetProperty("start").GetDateTimeOffset(), b.GetProperty("succeeded").GetInt32(), b.GetProperty("failed").GetInt32()))
            .ToList();
        Assert.Equal([(start, 2, 1), (start.AddHours(1), 0, 1), (start.AddHours(2), 1, 0)], buckets);
        Assert.Equal(3, statistics.GetProperty("signInsSucceeded").GetInt32());
        Assert.Equal(2, statistics.GetProperty("signInsFailed").GetInt32());
    }
}
