using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using IdentityServer.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace IdentityServer.Tests.Authorization;

/// <summary>Records the first words of every statement EF Core sends.</summary>
public sealed class StatementRecorder : DbCommandInterceptor
{
    private readonly ConcurrentQueue<string> statements = new();

    public void Reset() => statements.Clear();

    /// <summary>Each statement as its verb and table, e.g. <c>SELECT OpenIddictTokens</c>.</summary>
    public IReadOnlyList<string> Statements => [.. statements];

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        Record(command);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        Record(command);
        return ValueTask.FromResult(result);
    }

    private void Record(DbCommand command)
    {
        // One command may hold several statements (a batch of inserts): count each.
        foreach (var statement in command.CommandText.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = statement.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            var table = words.SkipWhile(w => w is not ("FROM" or "INTO" or "UPDATE")).Skip(1).FirstOrDefault()
                ?? (words[0] == "UPDATE" ? words[1] : "?");
            statements.Enqueue(words[0] + " " + table.Trim('"'));
        }
    }
}

public sealed class StatementCountingFactory : InterceptedFactory
{
    public StatementRecorder Recorder { get; } = new();

    protected override IInterceptor Interceptor => Recorder;
}

/// <summary>
/// What each hot request asks of the database, statement by statement. Clients and scopes come from
/// a short cache; tokens, grants, accounts and their roles are read fresh on every request, so that a
/// revocation, an ended session or a lock applies at once on every node.
/// </summary>
public sealed class StatementCountTests(StatementCountingFactory factory) : IClassFixture<StatementCountingFactory>
{
    [Fact]
    public async Task ClientCredentials_OneInsert()
    {
        using var client = factory.CreateOidcClient();
        await client.ClientCredentialsAsync(); // warm-up: client cache, keys
        factory.Recorder.Reset();

        var response = await client.ClientCredentialsAsync();

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(["INSERT OpenIddictTokens"], factory.Recorder.Statements);
    }

    [Fact]
    public async Task Introspection_ReadsTheTokenRowOnce()
    {
        using var client = factory.CreateOidcClient();
        var token = (await client.ClientCredentialsAsync())["access_token"]!;
        await client.IntrospectAsync(token); // warm-up
        factory.Recorder.Reset();

        var response = await client.IntrospectAsync(token);

        Assert.Equal("true", response["active"]);
        Assert.Equal(["SELECT OpenIddictTokens"], factory.Recorder.Statements);
    }

    [Fact]
    public async Task Refresh_ReadsTokenAccountClaimsRoles_RedeemsThenWritesTheResponseInOneBatch()
    {
        using var client = factory.CreateOidcClient();
        var first = await client.CodeFlowAsync();
        var second = await client.RefreshAsync(first["refresh_token"]!); // warm-up
        factory.Recorder.Reset();

        var third = await client.RefreshAsync(second["refresh_token"]!);

        Assert.Equal(HttpStatusCode.OK, third.Status);
        Assert.Equal(
        [
            "SELECT OpenIddictTokens",    // OpenIddict first looks up any token that is not a JWT as a reference id (none)
            "SELECT OpenIddictTokens",    // the refresh token, with its client and grant (one join)
            "SELECT AspNetUsers",         // the account: still there, not locked, same security stamp
            "UPDATE OpenIddictTokens",    // the redemption: one winner among concurrent uses
            "SELECT AspNetUserClaims",    // claims rebuilt from the account
            "SELECT AspNetUserRoles",
            "UPDATE OpenIddictTokens",    // one commit: the redeemed row unchanged since (concurrency check) ...
            "INSERT OpenIddictTokens",    // ... and the new access, refresh and ID token rows
            "INSERT OpenIddictTokens",
            "INSERT OpenIddictTokens",
        ], factory.Recorder.Statements);
    }
}
