using System.Collections.Concurrent;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>What the client knows about a <c>client_credentials</c> access token: only acknowledged ones are kept.</summary>
internal enum AccessTokenState
{
    /// <summary>Issued (a complete 200 was read), never revoked.</summary>
    Active,

    /// <summary>A revocation was sent but its answer was cut off by the kill: either state is right, once.</summary>
    RevocationInFlight,

    /// <summary>A revocation was acknowledged.</summary>
    Revoked,
}

/// <summary>A <c>client_credentials</c> token the server acknowledged, in which round.</summary>
internal sealed class IssuedToken(string name, int round, string value)
{
    public string Name => name;

    public int Round => round;

    public string Value => value;

    public AccessTokenState State { get; set; } = AccessTokenState.Active;

    public override string ToString() => $"access token {name} (round {round}, {State})";
}

/// <summary>
/// One refresh-token chain (one sign-in, one grant), owned by one worker: the refresh token and access
/// token of the latest acknowledged response, every token acknowledged as redeemed, and the token
/// whose refresh was on the wire when the server died.
/// </summary>
internal sealed class RefreshChain(string name, string authorizationId, string refreshToken, string accessToken)
{
    private readonly List<string> redeemed = [];

    public string Name => name;

    /// <summary>The grant in the server's database (<c>oi_au_id</c> of the chain's access tokens).</summary>
    public string AuthorizationId => authorizationId;

    public string RefreshToken { get; private set; } = refreshToken;

    public string AccessToken { get; private set; } = accessToken;

    /// <summary>Refresh tokens whose redemption was acknowledged (the answer with their successor was read), oldest first.</summary>
    public IReadOnlyList<string> Redeemed => redeemed;

    /// <summary>The refresh token sent in a refresh whose answer never came (the kill), if any.</summary>
    public string? InFlight { get; set; }

    public void Rotated(string newRefreshToken, string newAccessToken)
    {
        redeemed.Add(RefreshToken);
        RefreshToken = newRefreshToken;
        AccessToken = newAccessToken;
        InFlight = null;
    }

    public override string ToString() => $"chain {name} (grant {authorizationId}, {redeemed.Count} acknowledged rotations{(InFlight is null ? "" : ", a refresh in flight at the kill")})";
}

/// <summary>
/// Everything the test client was told, over every round, and every broken property it saw. Every
/// successful refresh is counted per presented token across the whole run: a second success of any
/// refresh token is a violation wherever it happens.
/// </summary>
internal sealed class Ledger
{
    private readonly ConcurrentDictionary<string, int> refreshSuccesses = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> violations = new();
    private readonly ConcurrentQueue<IssuedToken> issued = new();

    public IReadOnlyCollection<IssuedToken> Issued => issued;

    public IReadOnlyCollection<string> Violations => violations;

    public int Round { get; set; }

    public void Add(IssuedToken token) => issued.Enqueue(token);

    public void Violation(string message) => violations.Enqueue($"round {Round}: {message}");

    /// <summary>Records a successful redemption of <paramref name="refreshToken"/>; a second one anywhere in the run is a violation.</summary>
    public void RefreshSucceeded(RefreshChain chain, string refreshToken, string when)
    {
        if (refreshSuccesses.AddOrUpdate(refreshToken, 1, static (_, count) => count + 1) > 1)
        {
            Violation($"{chain}: a refresh token was redeemed successfully a second time ({when})");
        }
    }
}
