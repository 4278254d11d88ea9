using System.Text;
using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Hosting.Fuzzing;

/// <summary>
/// Makes request number <c>index</c> of a run: a valid request to one endpoint (real client ids,
/// redirect URIs, tokens and cookies from the <see cref="FuzzBaseline"/>), then zero to four
/// mutations. Each request draws from its own <see cref="Random"/> seeded from (seed, index), so the
/// same seed and index always make the same request, whatever ran before it and however many run.
/// </summary>
internal sealed class FuzzGenerator(FuzzBaseline baseline)
{
    private delegate FuzzRequest Template(Random random, int index);

    private delegate void Mutation(Random random, FuzzRequest request);

    private static readonly string[] HostileRedirects =
    [
        "https://evil.example/cb", "http://evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
        "//evil.example", "//evil.example/signin-oidc", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https:/evil.example",
        "https://shop.example.evil.example/signin-oidc", "https://shop.example@evil.example/signin-oidc", "https://evil.example#https://shop.example/signin-oidc",
        "https://shop.example/signin-oidc/", "https://shop.example/signin-oidc/extra", "https://shop.example/signin-oidc?x=1", "https://shop.example/signin-oidc#frag",
        "https://SHOP.example/signin-oidc", "https://shop.example/SIGNIN-OIDC", "http://shop.example/signin-oidc", "https://shop.example:443/signin-oidc",
        "https://shop.example/signin-oidc%2F..%2F..%2Fevil", "https://shop.example/./signin-oidc", " https://shop.example/signin-oidc", "https://shop.example/signin-oidc ",
        "https://shop.example/signout-callback-oidc/", "https://shop.example/signout-callback-oidc.evil.example", "https://portal.example/signin-oidc/../x",
        "http://127.0.0.1:7890/callback/../../evil", "http://127.0.0.1:7891/callback", "http://localhost:7890/callback", "https://localhost/", "/", "//",
        "/%2F%2Fevil.example", "/%5Cevil.example", "%2F%2Fevil.example", "/Account/Login?ReturnUrl=//evil.example", "~/x", "https://xn--shp-rna.example/signin-oidc",
        "https://shop.example\u0000.evil.example/signin-oidc", "https://shop.example\r\nX-Injected: 1", "https://\u0455hop.example/signin-oidc", "",
    ];

    /// <summary>Values of the wrong type, put into any field (sensitive or not): not secrets, whatever field they land in.</summary>
    /// <summary>A user code no device was given: not a secret, though it goes where user codes go.</summary>
    internal const string MadeUpUserCode = "ABCD-EFGH";

    internal static readonly string[] MistypedValues =
    [
        "-1", "0", "1.5", "99999999999999999999", "-9223372036854775809", "1e308", "NaN", "Infinity", "true", "null", "[]", "{}", "[\"a\",\"b\"]",
        "abc", "2024-13-45", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "10000-01-01", "\u0000", "%00", " ", "\t", "0x10", "+1", "1,2", "a b c",
    ];

    /// <summary>Broken percent-encodings, put after or before a name or value (alone, a value no secret can be).</summary>
    internal static readonly string[] BadPercentEncodings =
    [
        "%", "%Z", "%ZZ", "%2", "%C3%28", "%FF%FE", "%E2%82", "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "%00", "%u0041", "%%", "%25%", "+%2B+", "%0D%0A", "%C3",
    ];

    private static readonly string[] ExtraParameterNames =
    [
        "request", "request_uri", "claims", "registration", "resource", "audience", "acr_values", "ui_locales", "display", "login_hint", "id_token_hint",
        "max_age", "prompt", "response_mode", "code_challenge_method", "token_type_hint", "client_assertion", "client_assertion_type", "scope", "nonce",
        "state", "client_id", "client_secret", "redirect_uri", "grant_type", "code", "refresh_token", "device_code", "user_code", "token", "access_token",
        "post_logout_redirect_uri", "ReturnUrl", "returnUrl", "Input.Login", "Input.Password", "decision", "confirm", "__RequestVerificationToken",
        "page", "pageSize", "query", "includeEnded", "userId", "type", "from", "to", "limit", "interval", "dpop_jkt",
        "subject_token", "subject_token_type", "actor_token", "actor_token_type", "requested_token_type",
    ];

    /// <summary>The key that signs the fuzzer's DPoP proofs (genuine, broken and misplaced ones).</summary>
    private static readonly DPoPKey ProofKey = new();

    private (int Weight, string Name, Template Make)[] Templates =>
    [
        (14, "authorize", Authorize), (14, "token", Token), (8, "introspect", Introspect), (6, "revoke", Revoke), (7, "userinfo", UserInfo),
        (8, "endsession", EndSession), (4, "device", Device), (6, "par", Par), (6, "verify", Verify), (9, "login", Login), (12, "admin-api", AdminApi), (6, "page", Page),
    ];

    private (int Weight, string Name, Mutation Apply)[] Mutations =>
    [
        (8, "drop", Drop), (6, "duplicate", Duplicate), (5, "oversize", Oversize), (7, "random-value", RandomValue), (5, "add-param", AddParameter),
        (3, "mixed-case-name", MixedCaseName), (6, "bad-percent", BadPercent), (6, "mistype", Mistype), (5, "method", ChangeMethod),
        (5, "content-type", ChangeContentType), (6, "authorization", AuthorizationHeader), (3, "long-header", LongHeader), (10, "redirect", HostileRedirect),
        (4, "host", OddHost), (4, "header-bytes", HeaderBytes), (3, "duplicate-header", DuplicateHeader), (4, "path", OddPath), (4, "cookie", OddCookie),
        (5, "swap-token", SwapToken), (4, "dpop", DPoPHeader), (2, "random-body", RandomBody), (2, "query-and-body", QueryAndBody), (3, "empty-value", EmptyValue),
    ];

    public FuzzRequest Create(int seed, int index)
    {
        var random = new Random(unchecked((seed * 1_000_003) ^ (index * 7_919)));
        var (_, _, make) = Weighted(random, Templates);
        var request = make(random, index);
        var count = random.Next(10) switch { 0 => 0, < 5 => 1, < 8 => 2, 8 => 3, _ => 4 };
        for (var i = 0; i < count; i++)
        {
            var (_, name, apply) = Weighted(random, Mutations);
            request.Mutations.Add(name);
            apply(random, request);
        }
        // A share of the requests HttpClient could send go over the raw socket too: Kestrel sees both clients' framing.
        request.PreferRaw = random.Next(4) == 0;
        return request;
    }

    // ---- Valid requests ------------------------------------------------------------------------

    private FuzzRequest Authorize(Random random, int index)
    {
        var (clientId, redirectUri) = Pick(random, (TestSeed.WebClientId, TestSeed.WebRedirectUri), (TestSeed.ImplicitConsentClientId, TestSeed.PortalRedirectUri), (TestSeed.PublicClientId, TestSeed.PublicRedirectUri));
        var request = new FuzzRequest { Index = index, Template = "authorize", Path = "/connect/authorize" };
        var parameters = new List<FuzzParam>
        {
            new("client_id", clientId), new("response_type", "code"), new("redirect_uri", redirectUri),
            new("scope", Pick(random, "openid", "openid profile", "openid profile email offline_access orders", "openid orders")),
            new("state", RandomText(random, 8, Alphabet.Token)), new("nonce", RandomText(random, 12, Alphabet.Token)),
        };
        if (clientId != TestSeed.ImplicitConsentClientId || random.Next(2) == 0)
        {
            var pkce = Pkce.Create();
            parameters.Add(new("code_challenge", pkce.Challenge));
            parameters.Add(new("code_challenge_method", "S256"));
        }
        if (random.Next(3) == 0)
        {
            parameters.Add(new("response_mode", Pick(random, "query", "fragment", "form_post")));
        }
        if (random.Next(6) == 0)
        {
            parameters.Add(new("prompt", Pick(random, "none", "login", "consent", "select_account", "none login")));
        }
        if (random.Next(10) == 0)
        {
            parameters.Add(new("max_age", Pick(random, "0", "60", "3600")));
        }
        if (random.Next(12) == 0)
        {
            parameters.Add(new("id_token_hint", baseline.IdToken));
        }
        if (random.Next(10) == 0)
        {
            // A pushed request's reference instead of (or beside) the parameters: made up, or one never pushed.
            parameters.Add(new("request_uri", Pick(random, "urn:ietf:params:oauth:request_uri:" + RandomText(random, 43, Alphabet.Token), RandomText(random, 20, Alphabet.Token))));
            if (random.Next(2) == 0)
            {
                parameters.RemoveAll(static p => p.Name != "client_id" && p.Name != "request_uri");
            }
        }
        if (random.Next(5) == 0)
        {
            request.Method = "POST";
            request.Body = FuzzBody.Form;
            request.Form.AddRange(parameters);
        }
        else
        {
            request.Query.AddRange(parameters);
        }
        SignedIn(random, request, 0.6);
        return request;
    }

    private FuzzRequest Token(Random random, int index)
    {
        var request = Post(index, "token", "/connect/token");
        switch (random.Next(7))
        {
            case 6:
                // Token exchange (RFC 8693) by the API the tokens are for.
                request.Form.Add(new("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"));
                request.Form.Add(new("subject_token", Pick(random, baseline.AccessToken, baseline.WorkerAccessToken, baseline.RevocableAccessToken, baseline.IdToken)));
                request.Form.Add(new("subject_token_type", Pick(random, "urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:id_token",
                    "urn:ietf:params:oauth:token-type:refresh_token", "urn:ietf:params:oauth:token-type:jwt")));
                if (random.Next(2) == 0)
                {
                    request.Form.Add(new("audience", Pick(random, FuzzServerFactory.ExchangeAudience, "payroll-api", TestSeed.ApiClientId)));
                }
                if (random.Next(3) == 0)
                {
                    request.Form.Add(new("scope", Pick(random, TestSeed.ApiScope, "profile email", "offline_access")));
                }
                if (random.Next(5) == 0)
                {
                    request.Form.Add(new("actor_token", baseline.WorkerAccessToken));
                    request.Form.Add(new("actor_token_type", "urn:ietf:params:oauth:token-type:access_token"));
                }
                Credentials(random, request, TestSeed.ApiClientId, TestSeed.ApiSecret);
                break;
            case 0:
            case 1:
                request.Form.Add(new("grant_type", "client_credentials"));
                request.Form.Add(new("scope", TestSeed.ApiScope));
                Credentials(random, request, TestSeed.WorkerClientId, TestSeed.WorkerSecret);
                break;
            case 2:
                request.Form.Add(new("grant_type", "authorization_code"));
                request.Form.Add(new("code", RandomText(random, 43, Alphabet.Token)));
                request.Form.Add(new("redirect_uri", TestSeed.WebRedirectUri));
                request.Form.Add(new("code_verifier", Pkce.Create().Verifier));
                Credentials(random, request, TestSeed.WebClientId, TestSeed.WebClientSecret);
                break;
            case 3:
                request.Form.Add(new("grant_type", "refresh_token"));
                request.Form.Add(new("refresh_token", baseline.RevocableRefreshToken));
                Credentials(random, request, TestSeed.WebClientId, TestSeed.WebClientSecret);
                break;
            case 4:
                request.Form.Add(new("grant_type", "urn:ietf:params:oauth:grant-type:device_code"));
                request.Form.Add(new("device_code", baseline.DeviceCode));
                request.Form.Add(new("client_id", FuzzServerFactory.DeviceClientId));
                break;
            default:
                request.Form.Add(new("grant_type", Pick(random, "password", "implicit", "urn:ietf:params:oauth:grant-type:token-exchange", "urn:ietf:params:oauth:grant-type:jwt-bearer")));
                request.Form.Add(new("username", TestSeed.UserName));
                request.Form.Add(new("password", TestSeed.UserPassword));
                Credentials(random, request, TestSeed.WebClientId, TestSeed.WebClientSecret);
                break;
        }
        return request;
    }

    private FuzzRequest Introspect(Random random, int index)
    {
        var request = Post(index, "introspect", "/connect/introspect");
        request.Form.Add(new("token", Pick(random, IntrospectableTokens)));
        if (random.Next(3) == 0)
        {
            request.Form.Add(new("token_type_hint", Pick(random, "access_token", "refresh_token", "id_token", "device_code", "bogus")));
        }
        Credentials(random, request, TestSeed.ApiClientId, TestSeed.ApiSecret);
        return request;
    }

    private FuzzRequest Revoke(Random random, int index)
    {
        var request = Post(index, "revoke", "/connect/revoke");
        request.Form.Add(new("token", Pick(random, RevocableTokens)));
        if (random.Next(3) == 0)
        {
            request.Form.Add(new("token_type_hint", Pick(random, "access_token", "refresh_token", "bogus")));
        }
        Credentials(random, request, TestSeed.WebClientId, TestSeed.WebClientSecret);
        return request;
    }

    private FuzzRequest UserInfo(Random random, int index)
    {
        var request = new FuzzRequest { Index = index, Template = "userinfo", Path = "/connect/userinfo" };
        if (random.Next(4) == 0)
        {
            request.Method = "POST";
            request.Body = FuzzBody.Form;
            request.Form.Add(new("access_token", baseline.AccessToken));
        }
        else
        {
            request.Headers.Add(("Authorization", "Bearer " + Pick(random, baseline.AccessToken, baseline.AccessToken, baseline.AccessToken, baseline.WorkerAccessToken)));
        }
        return request;
    }

    private FuzzRequest EndSession(Random random, int index)
    {
        var request = new FuzzRequest { Index = index, Template = "endsession", Path = "/connect/endsession" };
        var parameters = new List<FuzzParam>();
        if (random.Next(10) < 6)
        {
            parameters.Add(new("id_token_hint", baseline.IdToken));
        }
        if (random.Next(10) < 7)
        {
            parameters.Add(new("post_logout_redirect_uri", TestSeed.WebPostLogoutRedirectUri));
        }
        if (random.Next(10) < 4)
        {
            parameters.Add(new("client_id", TestSeed.WebClientId));
        }
        parameters.Add(new("state", RandomText(random, 8, Alphabet.Token)));
        if (random.Next(3) == 0)
        {
            request.Method = "POST";
            request.Body = FuzzBody.Form;
            request.Form.AddRange(parameters);
            if (random.Next(2) == 0)
            {
                // The visitor's antiforgery token is not this user's: the confirmation must be refused, not crash.
                request.Form.Add(new("confirm", "yes"));
                request.Form.Add(new("__RequestVerificationToken", baseline.AnonymousAntiforgeryToken));
            }
        }
        else
        {
            request.Query.AddRange(parameters);
        }
        SignedIn(random, request, 0.5);
        return request;
    }

    /// <summary>A pushed authorization request (RFC 9126): an authorization request's parameters with the client's credentials.</summary>
    private FuzzRequest Par(Random random, int index)
    {
        var (clientId, redirectUri, secret) = Pick(random, (TestSeed.WebClientId, TestSeed.WebRedirectUri, (string?)TestSeed.WebClientSecret),
            (TestSeed.PublicClientId, TestSeed.PublicRedirectUri, null), (TestSeed.WorkerClientId, TestSeed.WebRedirectUri, TestSeed.WorkerSecret));
        var request = Post(index, "par", "/connect/par");
        var pkce = Pkce.Create();
        request.Form.AddRange([
            new("response_type", "code"), new("redirect_uri", redirectUri), new("scope", Pick(random, "openid", "openid profile offline_access orders")),
            new("state", RandomText(random, 8, Alphabet.Token)), new("code_challenge", pkce.Challenge), new("code_challenge_method", "S256"),
        ]);
        if (secret is null)
        {
            request.Form.Add(new("client_id", clientId));
        }
        else
        {
            Credentials(random, request, clientId, secret);
        }
        return request;
    }

    private FuzzRequest Device(Random random, int index)
    {
        var request = Post(index, "device", "/connect/device");
        request.Form.Add(new("client_id", Pick(random, FuzzServerFactory.DeviceClientId, FuzzServerFactory.DeviceClientId, TestSeed.WebClientId)));
        request.Form.Add(new("scope", Pick(random, "openid", "openid offline_access orders", "profile")));
        return request;
    }

    private FuzzRequest Verify(Random random, int index)
    {
        var request = new FuzzRequest { Index = index, Template = "verify", Path = "/connect/verify" };
        var code = Pick(random, baseline.UserCode, baseline.UserCode, MadeUpUserCode, RandomText(random, 9, Alphabet.Token));
        if (random.Next(3) == 0)
        {
            request.Method = "POST";
            request.Body = FuzzBody.Form;
            request.Form.Add(new("user_code", code));
            request.Form.Add(new("decision", Pick(random, "accept", "deny")));
            request.Form.Add(new("__RequestVerificationToken", baseline.AnonymousAntiforgeryToken));
        }
        else if (random.Next(5) > 0)
        {
            request.Query.Add(new("user_code", code));
        }
        SignedIn(random, request, 0.7);
        return request;
    }

    private FuzzRequest Login(Random random, int index)
    {
        var request = new FuzzRequest { Index = index, Template = "login", Path = "/Account/Login" };
        var returnUrl = Pick(random, "/", "/Account/Sessions", "/connect/authorize?client_id=portal&response_type=code&redirect_uri=https%3A%2F%2Fportal.example%2Fsignin-oidc&scope=openid");
        if (random.Next(4) == 0)
        {
            request.Query.Add(new("ReturnUrl", returnUrl));
            return request;
        }
        request.Method = "POST";
        request.Body = FuzzBody.Form;
        request.Headers.Add(("Cookie", baseline.AnonymousCookies));
        var (login, password) = Pick(random,
            (TestSeed.SecondUserName, TestSeed.SecondUserPassword), (TestSeed.SecondUserName, TestSeed.SecondUserPassword),
            ("bob@example.com", TestSeed.SecondUserPassword), (FuzzServerFactory.VictimUserName, "wrong-password"), ("nobody-" + RandomText(random, 6, Alphabet.Token), "x"));
        request.Form.Add(new("Input.Login", login));
        request.Form.Add(new("Input.Password", password));
        request.Form.Add(new("__RequestVerificationToken", baseline.AnonymousAntiforgeryToken));
        if (random.Next(2) == 0)
        {
            request.Query.Add(new("ReturnUrl", returnUrl));
        }
        else
        {
            request.Form.Add(new("ReturnUrl", returnUrl));
        }
        return request;
    }

    private FuzzRequest AdminApi(Random random, int index)
    {
        // Destructive calls aim at the throw-away account (or at nobody), so alice's session and tokens survive the run.
        var someone = Pick(random, baseline.AliceId, baseline.VictimId, RandomGuid(random), "x");
        var victim = Pick(random, baseline.VictimId, baseline.VictimId, RandomGuid(random), "..%2F..%2Fusers");
        var (method, path, query) = random.Next(10) switch
        {
            0 => ("GET", "/api/admin/users", new List<FuzzParam> { new("query", Pick(random, "a", "alice", "%", "_", "'", "")), new("page", "1"), new("pageSize", "20") }),
            1 => ("GET", $"/api/admin/users/{someone}", []),
            2 => ("GET", $"/api/admin/users/{someone}/sessions", [new("includeEnded", Pick(random, "true", "false"))]),
            3 => ("DELETE", $"/api/admin/users/{victim}/sessions/{Pick(random, RandomGuid(random), "1", "x")}", []),
            4 => ("DELETE", $"/api/admin/users/{victim}/sessions", []),
            5 => (Pick(random, "POST", "POST", "GET"), $"/api/admin/users/{victim}/{Pick(random, "lock", "unlock")}", []),
            6 => ("DELETE", $"/api/admin/users/{victim}", []),
            7 => ("GET", "/api/admin/events", new List<FuzzParam> { new("type", Pick(random, "sign_in_failed", "bogus")), new("from", "2024-01-01T00:00:00Z"), new("limit", "10") }),
            8 => ("GET", "/api/admin/statistics", new List<FuzzParam> { new("interval", Pick(random, "day", "hour", "week")), new("from", "2025-01-01T00:00:00Z") }),
            _ => ("GET", "/api/admin/openapi.json", []),
        };
        var request = new FuzzRequest { Index = index, Template = "admin-api", Method = method, Path = path };
        request.Query.AddRange(query);
        switch (random.Next(20))
        {
            case < 13:
                request.Headers.Add(("Authorization", "Bearer " + baseline.AdminAccessToken));
                break;
            case < 17:
                request.Headers.Add(("Cookie", baseline.SignedInCookies));
                break;
            case 17:
                request.Headers.Add(("Authorization", "Bearer " + baseline.WorkerAccessToken));
                break;
            default:
                break;
        }
        return request;
    }

    private FuzzRequest Page(Random random, int index)
    {
        var path = Pick(random, "/", "/.well-known/openid-configuration", "/.well-known/jwks", "/Account/Sessions", "/Account/Logout", "/Account/ChangePassword",
            "/Account/AccessDenied", "/Admin", "/Admin/Events", $"/Admin/Users/{baseline.AliceId}", "/Admin/Users/nobody", "/Error/404", "/Error", "/health/live",
            "/health/ready", "/favicon.ico", "/no/such/page");
        var request = new FuzzRequest { Index = index, Template = "page", Path = path };
        if (random.Next(4) == 0 && path.StartsWith("/Account/", StringComparison.Ordinal))
        {
            request.Method = "POST";
            request.Body = FuzzBody.Form;
            request.Form.Add(new("__RequestVerificationToken", baseline.AnonymousAntiforgeryToken));
            request.Query.Add(new("handler", Pick(random, "End", "EndOthers", "")));
            request.Form.Add(new("id", RandomGuid(random)));
        }
        else if (path.StartsWith("/Admin/Events", StringComparison.Ordinal))
        {
            request.Query.Add(new("type", Pick(random, "sign_in_failed", "x")));
            request.Query.Add(new("from", Pick(random, "2024-01-01", "yesterday")));
        }
        SignedIn(random, request, 0.6);
        return request;
    }

    // ---- Mutations -----------------------------------------------------------------------------

    private static void Drop(Random random, FuzzRequest request)
    {
        if (SomeParameters(random, request) is { Count: > 0 } parameters)
        {
            parameters.RemoveAt(random.Next(parameters.Count));
        }
        else if (request.Headers.Count > 0)
        {
            request.Headers.RemoveAt(random.Next(request.Headers.Count));
        }
    }

    private static void Duplicate(Random random, FuzzRequest request)
    {
        if (SomeParameters(random, request) is { Count: > 0 } parameters)
        {
            var parameter = parameters[random.Next(parameters.Count)];
            parameters.Insert(random.Next(parameters.Count + 1), random.Next(2) == 0 ? parameter : parameter with { Value = RandomText(random, 12, Alphabet.Token), Verbatim = false });
        }
    }

    private static void Oversize(Random random, FuzzRequest request)
    {
        var length = (int)Math.Exp(Math.Log(1024) + (random.NextDouble() * (Math.Log(1024 * 1024) - Math.Log(1024))));
        var value = RandomText(random, length, random.Next(3) == 0 ? Alphabet.Unicode : Alphabet.Token);
        if (SomeParameters(random, request) is { Count: > 0 } parameters)
        {
            var at = random.Next(parameters.Count);
            parameters[at] = new FuzzParam(parameters[at].Name, value);
        }
        else
        {
            request.Query.Add(new("x", value));
        }
    }

    private static void RandomValue(Random random, FuzzRequest request)
    {
        var value = RandomText(random, random.Next(0, 64), Pick(random, Alphabet.Token, Alphabet.Printable, Alphabet.Unicode));
        Replace(random, request, value);
    }

    private static void Mistype(Random random, FuzzRequest request) => Replace(random, request, Pick(random, MistypedValues), verbatim: request.Body == FuzzBody.Json && random.Next(2) == 0);

    private static void EmptyValue(Random random, FuzzRequest request) => Replace(random, request, "");

    private static void AddParameter(Random random, FuzzRequest request)
    {
        var name = random.Next(3) == 0 ? RandomText(random, random.Next(1, 20), Alphabet.Printable) : Pick(random, ExtraParameterNames);
        var value = random.Next(2) == 0 ? Pick(random, MistypedValues) : RandomText(random, random.Next(0, 40), Alphabet.Printable);
        Target(random, request).Add(new(name, value));
    }

    private static void MixedCaseName(Random random, FuzzRequest request)
    {
        if (SomeParameters(random, request) is { Count: > 0 } parameters)
        {
            var at = random.Next(parameters.Count);
            var name = parameters[at].Name;
            parameters[at] = parameters[at] with
            {
                Name = random.Next(2) == 0 ? name.ToUpperInvariant() : new string([.. name.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c)]),
            };
        }
    }

    private static void BadPercent(Random random, FuzzRequest request)
    {
        var fragment = Pick(random, BadPercentEncodings);
        var parameters = SomeParameters(random, request) ?? request.Query;
        if (parameters.Count == 0)
        {
            parameters.Add(new(fragment, "x", Verbatim: true));
            return;
        }
        var at = random.Next(parameters.Count);
        var parameter = parameters[at];
        var encoded = parameter.Verbatim ? parameter.Value : FuzzRequest.Escape(parameter.Value);
        parameters[at] = random.Next(4) == 0
            ? new FuzzParam(FuzzRequest.Escape(parameter.Name) + fragment, encoded, Verbatim: true)
            : new FuzzParam(parameter.Verbatim ? parameter.Name : FuzzRequest.Escape(parameter.Name), random.Next(2) == 0 ? encoded + fragment : fragment + encoded, Verbatim: true);
    }

    private static void ChangeMethod(Random random, FuzzRequest request)
    {
        var method = Pick(random, "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "Post", "TRACE", "PROPFIND", "X-FUZZ");
        if (method is "GET" or "HEAD" or "DELETE" or "get" && request.Form.Count > 0 && random.Next(2) == 0)
        {
            request.Query.AddRange(request.Form);
            request.Form.Clear();
            request.Body = FuzzBody.None;
        }
        else if (method is "POST" or "PUT" or "PATCH" or "Post" && request.Body == FuzzBody.None && random.Next(2) == 0)
        {
            request.Form.AddRange(request.Query);
            request.Query.Clear();
            request.Body = FuzzBody.Form;
        }
        request.Method = method;
        if (method is "get" or "Post" or "X-FUZZ" or "PROPFIND" or "TRACE")
        {
            request.RawOnly = true;
        }
    }

    private static void ChangeContentType(Random random, FuzzRequest request)
    {
        if (request.Body == FuzzBody.None && request.Query.Count > 0 && random.Next(2) == 0)
        {
            request.Form.AddRange(request.Query);
            request.Query.Clear();
        }
        switch (random.Next(8))
        {
            case 0:
                request.Body = FuzzBody.Json;
                break;
            case 1:
                request.Body = FuzzBody.Multipart;
                break;
            case 2:
                request.Body = FuzzBody.Form;
                request.ContentType = "";
                break;
            case 3:
                request.Body = FuzzBody.None;
                request.ContentType = "application/x-www-form-urlencoded";
                break;
            case 4:
                request.Body = FuzzBody.Form;
                request.ContentType = Pick(random, "text/plain", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=bogus",
                    "multipart/form-data", "multipart/form-data; boundary=", "application/x-www-form-urlencoded, application/json", "*/*", "application/x-www-form-urlencoded;;;",
                    "APPLICATION/X-WWW-FORM-URLENCODED", "application/json; charset=utf-8", "x", "application/x-www-form-urlencoded; boundary=\"");
                break;
            case 5:
                request.Body = FuzzBody.Multipart;
                request.ContentType = "multipart/form-data; boundary=" + Pick(random, "other", "\"\"", new string('b', 100));
                break;
            case 6:
                request.Body = FuzzBody.Json;
                request.ContentType = "application/x-www-form-urlencoded";
                break;
            default:
                request.Body = FuzzBody.Raw;
                request.RawBody = RandomBytes(random, random.Next(0, 4096));
                request.ContentType = Pick(random, "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json");
                break;
        }
        if (request.Method is "GET" or "HEAD" && random.Next(2) == 0)
        {
            request.Method = "POST";
        }
    }

    private void AuthorizationHeader(Random random, FuzzRequest request)
    {
        var value = random.Next(14) switch
        {
            0 => "Basic !!!not-base64!!!",
            1 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("no-colon-here")),
            2 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WebClientId}:{TestSeed.WebClientSecret}")).TrimEnd('='),
            3 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WebClientId}%ZZ:{TestSeed.WebClientSecret}%C3%28")),
            4 => "Basic " + Convert.ToBase64String(RandomBytes(random, random.Next(1, 64))),
            5 => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WorkerClientId}:{TestSeed.WorkerSecret}")),
            6 => "Bearer " + RandomText(random, random.Next(1, 200), Alphabet.Token),
            7 => "Bearer " + baseline.AccessToken + " " + baseline.AccessToken,
            8 => "Bearer",
            9 => "bearer " + baseline.AccessToken,
            10 => "Bearer " + baseline.IdToken,
            11 => "Negotiate " + Convert.ToBase64String(RandomBytes(random, 32)),
            12 => "Bearer " + Truncate(random, baseline.AccessToken),
            _ => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(":")),
        };
        if (random.Next(3) == 0)
        {
            // A second Authorization header next to whatever the request had.
            request.Headers.Add(("Authorization", value));
        }
        else
        {
            request.Headers.RemoveAll(static h => h.Name.Equals("Authorization", StringComparison.OrdinalIgnoreCase));
            request.Headers.Add(("Authorization", value));
        }
    }

    /// <summary>A DPoP proof (RFC 9449) on any request: junk, broken, stale, replayed-looking or genuine, and sometimes the DPoP scheme.</summary>
    private void DPoPHeader(Random random, FuzzRequest request)
    {
        var url = "https://localhost" + request.Path;
        var value = random.Next(9) switch
        {
            0 => RandomText(random, random.Next(1, 300), Alphabet.Token),
            1 => ProofKey.Proof(request.Method, url),
            2 => Truncate(random, ProofKey.Proof(request.Method, url)),
            3 => FlipCharacter(random, ProofKey.Proof(request.Method, url)),
            4 => ProofKey.Proof(request.Method, url, jwk: new() { ["kty"] = "RSA", ["n"] = RandomText(random, random.Next(1, 700), Alphabet.Token), ["e"] = "AQAB" }),
            5 => ProofKey.Proof(request.Method, url, issuedAt: DateTime.UnixEpoch.AddSeconds(random.Next())),
            6 => ProofKey.Proof(request.Method, url, jti: RandomText(random, random.Next(0, 600), Alphabet.Token), nonce: RandomText(random, random.Next(0, 600), Alphabet.Token)),
            7 => ProofKey.Proof(Pick(random, "GET", "POST", "PUT", "get"), "https://localhost" + Pick(random, "/connect/token", "/connect/userinfo", "/connect/par", "/")),
            _ => ProofKey.Proof(request.Method, url, accessToken: baseline.AccessToken),
        };
        request.Headers.Add(("DPoP", value));
        if (random.Next(3) == 0)
        {
            request.Headers.RemoveAll(static h => h.Name.Equals("Authorization", StringComparison.OrdinalIgnoreCase));
            request.Headers.Add(("Authorization", "DPoP " + Pick(random, baseline.AccessToken, baseline.WorkerAccessToken, RandomText(random, 40, Alphabet.Token))));
        }
    }

    private static void LongHeader(Random random, FuzzRequest request)
    {
        var length = (int)Math.Exp(Math.Log(1024) + (random.NextDouble() * (Math.Log(128 * 1024) - Math.Log(1024))));
        var name = Pick(random, "User-Agent", "Referer", "Accept-Language", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Accept", "X-Fuzz", "Origin", "If-None-Match");
        request.Headers.Add((name, RandomText(random, length, Alphabet.Token)));
    }

    private static void HostileRedirect(Random random, FuzzRequest request)
    {
        var target = Pick(random, HostileRedirects);
        foreach (var list in new[] { request.Query, request.Form })
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Name is "redirect_uri" or "post_logout_redirect_uri" or "ReturnUrl")
                {
                    list[i] = new FuzzParam(list[i].Name, target);
                    return;
                }
            }
        }
        var name = request.Template switch
        {
            "endsession" => "post_logout_redirect_uri",
            "login" or "page" or "verify" => "ReturnUrl",
            _ => "redirect_uri",
        };
        Target(random, request).Add(new(name, target));
    }

    private void OddHost(Random random, FuzzRequest request)
    {
        request.Host = Pick(random, "", "evil.example", "localhost", "localhost:1", baseline.Authority + "." , "LOCALHOST:" + baseline.Authority.Split(':')[1],
            "a@evil.example", "evil.example:" + baseline.Authority.Split(':')[1], "[::1]", "[::1", "127.0.0.1", "localhost:99999", "local host", "xn--lcalhost-1xa",
            "l\u00f6calhost", "localhost/evil", new string('h', 5000), "localhost\t", "localhost:-1", baseline.Authority + ", evil.example");
        request.RawOnly = true;
        if (random.Next(4) == 0)
        {
            // Two Host headers.
            request.Headers.Add(("Host", baseline.Authority));
        }
    }

    private static void HeaderBytes(Random random, FuzzRequest request)
    {
        var value = new string([.. Enumerable.Range(0, random.Next(1, 40)).Select(_ => (char)Pick(random, random.Next(1, 9), random.Next(0x0b, 0x0d), random.Next(0x0e, 0x20), 0x7f, random.Next(0x80, 0x100), 'a'))]);
        var name = Pick(random, "User-Agent", "Authorization", "Cookie", "X-Fuzz", "Accept-Language", "Content-Type", "Referer");
        if (name is "Authorization" or "Cookie" or "Content-Type")
        {
            request.Headers.RemoveAll(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
        }
        if (name == "Content-Type")
        {
            request.ContentType = "";
        }
        request.Headers.Add((name, random.Next(2) == 0 ? "Bearer " + value : value));
        request.RawOnly = true;
    }

    private void DuplicateHeader(Random random, FuzzRequest request)
    {
        switch (random.Next(4))
        {
            case 0:
                request.Headers.Add(("Cookie", baseline.SignedInCookies));
                request.Headers.Add(("Cookie", "idp.session=" + RandomText(random, 40, Alphabet.Token)));
                break;
            case 1:
                request.Headers.Add(("Authorization", "Bearer " + baseline.AccessToken));
                request.Headers.Add(("Authorization", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestSeed.WebClientId}:{TestSeed.WebClientSecret}"))));
                break;
            case 2:
                request.Headers.Add(("Content-Type", "application/json"));
                break;
            default:
                request.Headers.Add(("Host", "evil.example"));
                break;
        }
        request.RawOnly = true;
    }

    private static void OddPath(Random random, FuzzRequest request)
    {
        var path = request.Path;
        request.Path = random.Next(12) switch
        {
            0 => path + "/",
            1 => path.ToUpperInvariant(),
            2 => "/" + path,
            3 => path.Replace("/", "%2F", StringComparison.Ordinal).Insert(0, "/"),
            4 => path.Replace("/connect/", "/connect/./", StringComparison.Ordinal).Replace("/Account/", "/x/../Account/", StringComparison.Ordinal),
            5 => path + ";jsessionid=1",
            6 => path + "/" + RandomText(random, 8, Alphabet.Token),
            7 => path + "%00",
            8 => path + "%C3%28",
            9 => path + "\u00e9\u00ff",
            10 => "https://evil.example" + path,
            _ => path + "#fragment",
        };
        request.RawOnly = true;
    }

    private void OddCookie(Random random, FuzzRequest request)
    {
        request.Headers.RemoveAll(static h => h.Name.Equals("Cookie", StringComparison.OrdinalIgnoreCase));
        var value = random.Next(6) switch
        {
            0 => null,
            1 => "idp.session=" + RandomText(random, random.Next(1, 400), Alphabet.Token),
            2 => Truncate(random, baseline.SignedInCookies),
            3 => baseline.SignedInCookies + "; " + baseline.SignedInCookies,
            4 => "idp.session=" + RandomText(random, random.Next(4000, 60_000), Alphabet.Token),
            _ => baseline.SignedInCookies.Replace("idp.session=", "idp.session=" + RandomText(random, 3, Alphabet.Token), StringComparison.Ordinal),
        };
        if (value is not null)
        {
            request.Headers.Add(("Cookie", value));
        }
    }

    private void SwapToken(Random random, FuzzRequest request)
    {
        var tokens = request.Template == "revoke" ? RevocableTokens : IntrospectableTokens;
        var replacement = random.Next(3) == 0 ? Truncate(random, Pick(random, tokens)) : random.Next(2) == 0 ? FlipCharacter(random, Pick(random, tokens)) : Pick(random, tokens);
        foreach (var list in new[] { request.Query, request.Form })
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Name is "token" or "refresh_token" or "access_token" or "id_token_hint" or "code" or "device_code")
                {
                    list[i] = new FuzzParam(list[i].Name, replacement);
                    return;
                }
            }
        }
        var bearer = request.Headers.FindIndex(static h => h.Name == "Authorization" && h.Value.StartsWith("Bearer ", StringComparison.Ordinal));
        if (bearer >= 0 && request.Template != "admin-api")
        {
            request.Headers[bearer] = ("Authorization", "Bearer " + replacement);
        }
        else
        {
            Target(random, request).Add(new("token", replacement));
        }
    }

    private static void RandomBody(Random random, FuzzRequest request)
    {
        request.Body = FuzzBody.Raw;
        request.RawBody = RandomBytes(random, random.Next(1, 64 * 1024));
        request.ContentType = random.Next(2) == 0 ? "application/x-www-form-urlencoded" : null;
        if (request.Method is "GET" or "HEAD")
        {
            request.Method = "POST";
        }
    }

    private static void QueryAndBody(Random random, FuzzRequest request)
    {
        if (request.Form.Count > 0)
        {
            request.Query.Add(request.Form[random.Next(request.Form.Count)]);
        }
        else if (request.Query.Count > 0)
        {
            request.Form.Add(request.Query[random.Next(request.Query.Count)] with { Value = RandomText(random, 10, Alphabet.Token) });
            request.Body = FuzzBody.Form;
            request.Method = "POST";
        }
    }

    // ---- Helpers -------------------------------------------------------------------------------

    private string[] IntrospectableTokens =>
        [baseline.AccessToken, baseline.IdToken, baseline.RevocableRefreshToken, baseline.WorkerAccessToken, baseline.AdminAccessToken, baseline.DeviceCode, "garbage", ""];

    /// <summary>Tokens the fuzz may revoke without spoiling the rest of the run.</summary>
    private string[] RevocableTokens =>
        [baseline.RevocableAccessToken, baseline.RevocableRefreshToken, baseline.WorkerAccessToken, "garbage", ""];

    private static FuzzRequest Post(int index, string template, string path) =>
        new() { Index = index, Template = template, Method = "POST", Path = path, Body = FuzzBody.Form };

    private void SignedIn(Random random, FuzzRequest request, double share)
    {
        if (random.NextDouble() < share)
        {
            request.Headers.Add(("Cookie", baseline.SignedInCookies));
        }
    }

    private static void Credentials(Random random, FuzzRequest request, string clientId, string secret)
    {
        if (random.Next(3) == 0)
        {
            var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(secret)));
            request.Headers.Add(("Authorization", "Basic " + basic));
        }
        else
        {
            request.Form.Add(new("client_id", clientId));
            request.Form.Add(new("client_secret", secret));
        }
    }

    /// <summary>The parameter list a mutation works on: the body's for a body request, else the query's (sometimes the other).</summary>
    private static List<FuzzParam>? SomeParameters(Random random, FuzzRequest request)
    {
        var first = request.Body is FuzzBody.Form or FuzzBody.Json or FuzzBody.Multipart ? request.Form : request.Query;
        var second = ReferenceEquals(first, request.Form) ? request.Query : request.Form;
        var chosen = random.Next(5) == 0 ? second : first;
        return chosen.Count > 0 ? chosen : first.Count > 0 ? first : second.Count > 0 ? second : null;
    }

    private static List<FuzzParam> Target(Random random, FuzzRequest request) =>
        request.Body is FuzzBody.Form or FuzzBody.Json or FuzzBody.Multipart && random.Next(4) > 0 ? request.Form : request.Query;

    private static void Replace(Random random, FuzzRequest request, string value, bool verbatim = false)
    {
        if (SomeParameters(random, request) is { Count: > 0 } parameters)
        {
            var at = random.Next(parameters.Count);
            parameters[at] = new FuzzParam(parameters[at].Name, value, verbatim);
        }
        else
        {
            Target(random, request).Add(new(Pick(random, ExtraParameterNames), value, verbatim));
        }
    }

    private enum Alphabet
    {
        Token,
        Printable,
        Unicode,
    }

    private static string RandomText(Random random, int length, Alphabet alphabet)
    {
        const string token = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        var text = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            text.Append(alphabet switch
            {
                Alphabet.Token => token[random.Next(token.Length)],
                Alphabet.Printable => (char)random.Next(0x20, 0x7f),
                _ => (char)Pick(random, random.Next(0x20, 0x7f), random.Next(0, 0x20), random.Next(0x80, 0x800), random.Next(0x4e00, 0x9fff), 0xfeff, 0x202e, 0xfffd, random.Next(0xd800, 0xe000)),
            });
        }
        return text.ToString();
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string RandomGuid(Random random) => new Guid(RandomBytes(random, 16)).ToString();

    private static string Truncate(Random random, string value) => value.Length < 2 ? value : value[..random.Next(1, value.Length)];

    private static string FlipCharacter(Random random, string value)
    {
        if (value.Length == 0)
        {
            return "x";
        }
        var chars = value.ToCharArray();
        var at = random.Next(chars.Length);
        chars[at] = chars[at] == 'A' ? 'B' : 'A';
        return new string(chars);
    }

    private static T Pick<T>(Random random, params T[] values) => values[random.Next(values.Length)];

    private static (int, string, T) Weighted<T>(Random random, (int Weight, string Name, T Value)[] choices)
    {
        var roll = random.Next(choices.Sum(static c => c.Weight));
        foreach (var choice in choices)
        {
            if ((roll -= choice.Weight) < 0)
            {
                return choice;
            }
        }
        throw new InvalidOperationException("unreachable");
    }
}
