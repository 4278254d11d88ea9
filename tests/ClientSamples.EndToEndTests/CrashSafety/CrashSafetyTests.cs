using System.Diagnostics;
using System.Net;
using ClientSamples.EndToEndTests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>
/// The identity provider on SQLite killed (SIGKILL) in the middle of mixed load, ten times, and started
/// again on the same file each time. After each kill the file as left must pass SQLite's integrity check
/// and agree with what clients were told; after each restart every token whose issuance was
/// acknowledged must introspect as before, the latest refresh token of every chain must work exactly
/// once, no refresh token may ever succeed twice, and the pruning job must run again.
/// </summary>
public sealed class CrashSafetyTests(ITestOutputHelper output)
{
    /// <summary>The issuer every start of the server is configured with.</summary>
    public static readonly Uri Issuer = new("https://idp.crash.example/");

    private const int Kills = 10;
    private const int Workers = 4;
    private const int ChainsPerWorker = 1;

    /// <summary>Fixed, so that the kill moments and each worker's choice of requests are the same on every run.</summary>
    private const int Seed = 7919;

    private static readonly TimeSpan EarliestKill = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan LatestKill = TimeSpan.FromMilliseconds(1500);

    [Fact]
    public async Task Server_KilledTenTimesUnderLoad_KeepsEveryAcknowledgedTokenAndNeverHonoursARefreshTokenTwice()
    {
        var started = Stopwatch.StartNew();
        using var folder = new TestFolder("idp-crash-tests");
        await using var server = new CrashServer(folder);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(30) };
        var ledger = new Ledger();
        var random = new Random(Seed);
        await server.StartAsync();

        for (var round = 1; round <= Kills; round++)
        {
            ledger.Round = round;
            var roundStarted = started.Elapsed;
            var client = new ProtocolClient(http, server.Address);
            var chains = await Task.WhenAll(Enumerable.Range(1, Workers * ChainsPerWorker).Select(i => client.StartChainAsync($"{round}.{i}")));
            var workers = Enumerable.Range(0, Workers).Select(w => new LoadWorker(
                $"worker {round}.{w + 1}", new Random(Seed + (round * Workers) + w), client, ledger, chains[(w * ChainsPerWorker)..((w + 1) * ChainsPerWorker)])).ToList();

            // Load, then the kill at a moment of the seeded sequence.
            var killed = 0;
            var load = workers.Select(worker => Task.Run(() => worker.RunAsync(() => Volatile.Read(ref killed) == 1))).ToList();
            var killAfter = EarliestKill + ((LatestKill - EarliestKill) * random.NextDouble());
            await Task.Delay(killAfter);
            Volatile.Write(ref killed, 1);
            await server.KillAsync();
            try
            {
                await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is not XunitException)
            {
                // A request that failed before the kill, or a worker that did not stop after it.
                throw new XunitException($"round {round}: the load failed: {e}\n\n{server.Logs()}", e);
            }
            ThrowOnViolations(ledger, server, $"under load (killed {killAfter.TotalMilliseconds:0} ms in)");

            var committed = DatabaseAfterKill.Check(server.CopyDatabase(round), chains, ledger);
            ThrowOnViolations(ledger, server, "in the database the kill left");

            var restart = Stopwatch.StartNew();
            await server.StartAsync();
            restart.Stop();
            // After the last kill, every machine token of the run: what earlier crashes left must survive later ones.
            await VerifyAfterRestartAsync(new ProtocolClient(http, server.Address), chains, committed, ledger, everyRound: round == Kills);
            // A completed run (not only a firing) on the recovered file, by the restarted process.
            await server.Process.WaitForOutputAsync(lines => lines.Any(line => line.Contains("Pruning ended", StringComparison.Ordinal)),
                CrashServer.PruningInterval + TimeSpan.FromSeconds(30));
            ThrowOnViolations(ledger, server, "after the restart");
            output.WriteLine($"round {round}: killed {killAfter.TotalMilliseconds:0} ms into load; {ledger.Issued.Count} machine tokens so far; "
                + $"refreshes in flight at the kill: {committed.Count(c => c.Value)} reached the database, {committed.Count(c => !c.Value)} did not; "
                + $"round {(started.Elapsed - roundStarted).TotalSeconds:0.0} s, of which restart {restart.Elapsed.TotalSeconds:0.0} s");
        }

        Assert.True(ledger.Issued.Count >= Kills * Workers, $"Only {ledger.Issued.Count} machine tokens were issued in {Kills} rounds: the load did not run.");
        output.WriteLine($"{Kills} kills in {started.Elapsed.TotalSeconds:0.0} s; pruning removed {server.PrunedTokens()} tokens");
    }

    /// <summary>
    /// The machine tokens of this round (of every round with <paramref name="everyRound"/>), then each chain
    /// of this round, side by side (one session each).
    /// </summary>
    private static async Task VerifyAfterRestartAsync(ProtocolClient client, IReadOnlyList<RefreshChain> chains, IReadOnlyDictionary<RefreshChain, bool> committed, Ledger ledger, bool everyRound)
    {
        await Parallel.ForEachAsync(ledger.Issued.Where(token => everyRound || token.Round == ledger.Round), new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (token, _) =>
        {
            var reply = await client.IntrospectAsync(token.Value);
            if (reply.Active is not { } active)
            {
                ledger.Violation($"{token}: introspection failed after the restart: {reply}");
            }
            else if (token.State == AccessTokenState.RevocationInFlight)
            {
                token.State = active ? AccessTokenState.Active : AccessTokenState.Revoked; // from now on it must stay so
            }
            else if (active != (token.State == AccessTokenState.Active))
            {
                ledger.Violation($"{token}: active={active} after the restart");
            }
        });
        await Task.WhenAll(chains.Select(chain => VerifyChainAsync(client, chain, committed, ledger)));
    }

    private static async Task VerifyChainAsync(ProtocolClient client, RefreshChain chain, IReadOnlyDictionary<RefreshChain, bool> committed, Ledger ledger)
    {
        var access = await client.IntrospectAsync(chain.AccessToken);
        if (access.Active != true)
        {
            ledger.Violation($"{chain}: its latest acknowledged access token introspected as {access} after the restart");
        }

        if (chain.InFlight is { } presented)
        {
            if (!committed.TryGetValue(chain, out var redeemed))
            {
                return; // the database check already reported this chain
            }
            var again = await client.RefreshAsync(presented);
            if (redeemed)
            {
                ExpectInvalidGrant(chain, again, "the refresh token whose redemption reached the database before the kill", ledger);
                return;
            }
            // Never redeemed: it works once (its one success in the whole run), then never again.
            if (again.Status != HttpStatusCode.OK)
            {
                ledger.Violation($"{chain}: the refresh token in flight at the kill, never redeemed, was refused after the restart: {again}");
                return;
            }
            ledger.RefreshSucceeded(chain, presented, "after the restart, in flight at the kill");
            ExpectInvalidGrant(chain, await client.RefreshAsync(presented), "the refresh token in flight at the kill, just redeemed", ledger);
            return;
        }

        var refreshed = await client.RefreshAsync(chain.RefreshToken);
        if (refreshed.Status != HttpStatusCode.OK)
        {
            ledger.Violation($"{chain}: its latest acknowledged refresh token was refused after the restart: {refreshed}");
            return;
        }
        ledger.RefreshSucceeded(chain, chain.RefreshToken, "after the restart");
        // One replay per chain: the first one revokes the grant, after which any token of it is refused
        // anyway. Preferably a token redeemed before the kill: only its recorded redemption can refuse it.
        if (chain.Redeemed.Count > 0)
        {
            ExpectInvalidGrant(chain, await client.RefreshAsync(chain.Redeemed[^1]), "a refresh token redeemed (acknowledged) before the kill", ledger);
        }
        else
        {
            ExpectInvalidGrant(chain, await client.RefreshAsync(chain.RefreshToken), "its first refresh token, redeemed after the restart", ledger);
        }
    }

    private static void ExpectInvalidGrant(RefreshChain chain, Reply reply, string what, Ledger ledger)
    {
        if (reply.Status != HttpStatusCode.BadRequest || reply.Error != "invalid_grant")
        {
            ledger.Violation($"{chain}: {what} was presented again and got {reply}, not invalid_grant");
        }
    }

    private static void ThrowOnViolations(Ledger ledger, CrashServer server, string when)
    {
        if (ledger.Violations.Count > 0)
        {
            throw new XunitException($"{ledger.Violations.Count} broken propert{(ledger.Violations.Count == 1 ? "y" : "ies")} {when}:\n"
                + string.Join('\n', ledger.Violations.Take(40)) + $"\n\n{server.Logs()}");
        }
    }
}
