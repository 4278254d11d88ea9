namespace Floor;

/// <summary>How much of OpenIddict's own machinery a token request goes through.</summary>
internal enum FloorMode
{
    /// <summary>
    /// OpenIddict's degraded mode: no database at all, tokens are not stored, and the client is
    /// checked by a constant-time comparison of its secret in an inline handler. What remains is the
    /// protocol pipeline, the claims and the JWT signature: the least OpenIddict can cost per token.
    /// </summary>
    Degraded,

    /// <summary>
    /// OpenIddict's EF Core stores on a SQLite file (WAL), used as documented: every request looks the
    /// client up and checks its secret against the stored PBKDF2 hash, and every token gets a row.
    /// </summary>
    Sqlite,

    /// <summary>
    /// <see cref="Sqlite"/> plus the two caches the product puts in front of OpenIddict (client lookups
    /// by client_id, successful secret checks), so PBKDF2 runs once per client rather than per request.
    /// Also enables rolling refresh tokens (through client_credentials with offline_access) and the
    /// introspection endpoint for a resource-server client: the floor of the product's other two scenarios.
    /// </summary>
    Stock,
}
