using System.Net;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>
/// One client of the mixed load, one request at a time until the server dies: issues machine tokens,
/// rotates its own refresh-token chains, introspects tokens it holds and revokes some of its machine
/// tokens. What it records is only what the server acknowledged (a complete answer), and what was on the
/// wire when the connection broke. Any complete answer that is wrong is a violation even under load.
/// </summary>
internal sealed class LoadWorker(string name, Random random, ProtocolClient client, Ledger ledger, IReadOnlyList<RefreshChain> chains)
{
    private readonly List<IssuedToken> tokens = [];

    /// <summary>Runs until a request fails after <paramref name="killed"/> is set; a failure before that is the test's failure.</summary>
    public async Task RunAsync(Func<bool> killed)
    {
        for (var request = 0; ; request++)
        {
            var roll = random.NextDouble();
            try
            {
                if (roll < 0.35 || tokens.Count == 0)
                {
                    await IssueAsync($"{name}/{request}");
                }
                else if (roll < 0.65)
                {
                    await RefreshAsync(chains[random.Next(chains.Count)]);
                }
                else if (roll < 0.85)
                {
                    await IntrospectAsync(random.Next(2) == 0 ? tokens[random.Next(tokens.Count)] : null);
                }
                else
                {
                    await RevokeAsync(tokens[random.Next(tokens.Count)]);
                }
            }
            catch (Exception e) when (killed() && e is HttpRequestException or TaskCanceledException or IOException)
            {
                return; // the server is gone; whatever was on the wire stays as recorded
            }
        }
    }

    private async Task IssueAsync(string tokenName)
    {
        var reply = await client.ClientCredentialsAsync();
        if (reply.Status != HttpStatusCode.OK)
        {
            ledger.Violation($"{name}: client_credentials refused under load: {reply}");
            return;
        }
        var token = new IssuedToken(tokenName, ledger.Round, reply.AccessToken);
        tokens.Add(token);
        ledger.Add(token);
    }

    private async Task RefreshAsync(RefreshChain chain)
    {
        var presented = chain.RefreshToken;
        chain.InFlight = presented;
        var reply = await client.RefreshAsync(presented);
        if (reply.Status != HttpStatusCode.OK)
        {
            // Only this worker uses the chain, one request at a time: nothing may refuse it.
            chain.InFlight = null;
            ledger.Violation($"{name}: {chain}: refresh refused under load: {reply}");
            return;
        }
        ledger.RefreshSucceeded(chain, presented, "under load");
        chain.Rotated(reply.RefreshToken, reply.AccessToken);
    }

    /// <summary>A machine token this worker holds, or (null) the latest access token of one of its chains.</summary>
    private async Task IntrospectAsync(IssuedToken? token)
    {
        var chain = chains[random.Next(chains.Count)];
        var (value, label, expected) = token is null
            ? (chain.AccessToken, $"{chain}: latest access token", true)
            : (token.Value, token.ToString(), token.State == AccessTokenState.Active);
        var reply = await client.IntrospectAsync(value);
        if (reply.Active != expected)
        {
            ledger.Violation($"{name}: {label} introspected under load: {reply}, expected active={expected}");
        }
    }

    private async Task RevokeAsync(IssuedToken token)
    {
        if (token.State != AccessTokenState.Active)
        {
            return;
        }
        token.State = AccessTokenState.RevocationInFlight;
        var reply = await client.RevokeAsync(token.Value);
        if (reply.Status != HttpStatusCode.OK)
        {
            token.State = AccessTokenState.Active;
            ledger.Violation($"{name}: revocation of {token} refused under load: {reply}");
            return;
        }
        token.State = AccessTokenState.Revoked;
    }
}
