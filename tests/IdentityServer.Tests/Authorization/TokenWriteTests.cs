using System.Data.Common;
using System.Net;
using System.Text.RegularExpressions;
using IdentityServer.Data;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityServer.Tests.Authorization;

/// <summary>
/// Counts what reaches the database: commits (an explicit transaction's commit, or a write statement
/// outside a transaction, which commits by itself) and, when armed, changes the concurrency token of
/// the token row that a token response is about to redeem, as a concurrent request would.
/// </summary>
public sealed class CommitCounter : DbCommandInterceptor, IDbTransactionInterceptor
{
    private int commits;
    private volatile bool interfereWithNextRedemption;

    public int Commits => Volatile.Read(ref commits);

    public void Reset() => Interlocked.Exchange(ref commits, 0);

    /// <summary>The next redemption written inside a transaction finds its row changed by someone else.</summary>
    public void InterfereWithNextRedemption() => interfereWithNextRedemption = true;

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Observe(command);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Observe(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Observe(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Observe(command);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Interlocked.Increment(ref commits);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref commits);
        return Task.CompletedTask;
    }

    private void Observe(DbCommand command)
    {
        var text = command.CommandText.TrimStart();
        var write = text.StartsWith("INSERT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("DELETE", StringComparison.OrdinalIgnoreCase);
        if (!write)
        {
            return;
        }
        if (command.Transaction is null)
        {
            Interlocked.Increment(ref commits);
            return;
        }
        if (interfereWithNextRedemption && text.StartsWith("UPDATE \"OpenIddictTokens\"", StringComparison.Ordinal))
        {
            interfereWithNextRedemption = false;
            // The statement's WHERE clause names the row by its key parameter; change that row's
            // concurrency token first, in the same transaction.
            var name = Regex.Match(text, "WHERE \"Id\" = (@\\w+)").Groups[1].Value;
            var key = command.Parameters.Cast<DbParameter>().Single(p => p.ParameterName == name);
            using var change = command.Connection!.CreateCommand();
            change.Transaction = command.Transaction;
            change.CommandText = "UPDATE \"OpenIddictTokens\" SET \"ConcurrencyToken\" = 'changed-by-another-request' WHERE \"Id\" = @id";
            var parameter = change.CreateParameter();
            parameter.ParameterName = "@id";
            parameter.Value = key.Value;
            change.Parameters.Add(parameter);
            change.ExecuteNonQuery();
        }
    }
}

public sealed class CommitCountingFactory : InterceptedFactory
{
    public CommitCounter Counter { get; } = new();

    protected override IInterceptor Interceptor => Counter;
}

/// <summary>
/// A token response is written in one commit (plus, for a refresh, the redemption that decides between
/// concurrent uses of the token): each commit is a turn of SQLite's single writer and an fsync.
/// </summary>
public sealed class TokenWriteTests(CommitCountingFactory factory) : IClassFixture<CommitCountingFactory>
{
    [Fact]
    public async Task ClientCredentials_WritesItsTokenInOneCommit()
    {
        using var client = factory.CreateOidcClient();
        await client.ClientCredentialsAsync(); // warm-up: first-time work (keys, caches) stays out of the count
        factory.Counter.Reset();

        var response = await client.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(1, factory.Counter.Commits);
    }

    [Fact]
    public async Task Refresh_RedeemsInOneCommitAndWritesTheNewTokensInAnother()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        factory.Counter.Reset();

        var second = await client.RefreshAsync(first["refresh_token"]!);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(2, factory.Counter.Commits);

        // Every new row names its client and grant (written from the ids, without loading either).
        var rows = await TokenRowsAsync(Jwt.Payload(second["access_token"]!).GetProperty("oi_au_id").GetString()!);
        Assert.Equal(2, rows.Count(r => r.Type == TokenTypeIdentifiers.AccessToken && r.Status == Statuses.Valid));
        Assert.Single(rows, r => r.Type == TokenTypeIdentifiers.RefreshToken && r.Status == Statuses.Valid);
        Assert.Single(rows, r => r.Type == TokenTypeIdentifiers.RefreshToken && r.Status == Statuses.Redeemed);
        Assert.Equal(2, rows.Count(r => r.Type == TokenTypeIdentifiers.IdentityToken));
        Assert.All(rows, r => Assert.Equal(TestSeed.WebClientId, r.ClientId));
    }

    [Fact]
    public async Task CodeRedemption_CommitsTheRedemptionFirstAndTheTokensInOneMoreCommit()
    {
        using var client = factory.CreateOidcClient();
        var pkce = Pkce.Create();
        var redirect = await client.AuthorizeAsync(OidcTestClient.CodeRequest(
            TestSeed.WebClientId, TestSeed.WebRedirectUri, "openid profile email offline_access orders", pkce));
        factory.Counter.Reset();

        var tokens = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.WebRedirectUri), ("code_verifier", pkce.Verifier),
            ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));

        Assert.Equal(HttpStatusCode.OK, tokens.Status);
        // The code's redemption is committed at once, as OpenIddict does, so that a concurrent second
        // use fails on it; the three tokens follow in one commit.
        Assert.Equal(2, factory.Counter.Commits);
        var rows = await TokenRowsAsync(Jwt.Payload(tokens["access_token"]!).GetProperty("oi_au_id").GetString()!);
        Assert.Single(rows, r => r.Type == TokenTypeIdentifiers.Private.AuthorizationCode && r.Status == Statuses.Redeemed);
        var again = await client.TokenAsync(
            ("grant_type", "authorization_code"), ("code", OidcTestClient.Query(redirect)["code"]),
            ("redirect_uri", TestSeed.WebRedirectUri), ("code_verifier", pkce.Verifier),
            ("client_id", TestSeed.WebClientId), ("client_secret", TestSeed.WebClientSecret));
        Assert.Equal("invalid_grant", again.Error);
    }

    [Fact]
    public async Task Refresh_TokenChangedBeforeTheNewTokensAreWritten_InvalidGrantAndNothingWritten()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        var grant = Jwt.Payload(first["access_token"]!).GetProperty("oi_au_id").GetString()!;
        var before = await TokenRowsAsync(grant);

        factory.Counter.InterfereWithNextRedemption();
        var refresh = await client.RefreshAsync(first["refresh_token"]!);

        Assert.Equal(HttpStatusCode.BadRequest, refresh.Status);
        Assert.Equal("invalid_grant", refresh.Error);
        Assert.Null(refresh["access_token"]);
        // The rows of the refused response were never written.
        Assert.Equal(before.Count, (await TokenRowsAsync(grant)).Count);
    }

    private sealed record TokenRow(string? Type, string? Status, string? ClientId);

    private Task<List<TokenRow>> TokenRowsAsync(string authorizationId) => factory.WithScopeAsync(services =>
        services.GetRequiredService<ApplicationDbContext>().Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Authorization!.Id == authorizationId)
            .Select(t => new TokenRow(t.Type, t.Status, t.Application!.ClientId))
            .ToListAsync());
}
