using Microsoft.Data.Sqlite;

namespace ClientSamples.EndToEndTests.CrashSafety;

/// <summary>
/// Checks on a copy of the SQLite file (and its WAL) exactly as a killed server left it: the file is
/// sound, and the refresh-token rows agree with what the client was told before the kill.
/// </summary>
internal static class DatabaseAfterKill
{
    /// <summary>How OpenIddict (5 and later) stores a refresh token's type: RFC 8693's identifier.</summary>
    private const string RefreshTokenType = "urn:ietf:params:oauth:token-type:refresh_token";

    /// <summary>
    /// Records every broken property in <paramref name="ledger"/> and returns, for each chain whose refresh
    /// was cut off by the kill, whether that redemption reached the database (the presented token is then
    /// redeemed and must be refused after the restart) or not (it must work once).
    /// </summary>
    public static IReadOnlyDictionary<RefreshChain, bool> Check(string path, IReadOnlyList<RefreshChain> chains, Ledger ledger)
    {
        // Not pooled: the file is closed (and its WAL folded in) when this returns.
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();

        var integrity = Rows(connection, "PRAGMA integrity_check;");
        if (integrity is not [["ok"]])
        {
            ledger.Violation($"PRAGMA integrity_check: {Format(integrity)}");
        }
        var foreignKeys = Rows(connection, "PRAGMA foreign_key_check;");
        if (foreignKeys.Count > 0)
        {
            ledger.Violation($"PRAGMA foreign_key_check: {Format(foreignKeys)}");
        }
        // Rolling refresh tokens: a grant never has two usable refresh tokens, however a refresh was cut short.
        foreach (var row in Rows(connection,
            "SELECT AuthorizationId, COUNT(*) FROM OpenIddictTokens WHERE Type = $type AND Status = 'valid' GROUP BY AuthorizationId HAVING COUNT(*) > 1;",
            ("$type", RefreshTokenType)))
        {
            ledger.Violation($"grant {row[0]} has {row[1]} valid refresh tokens");
        }

        var committed = new Dictionary<RefreshChain, bool>();
        foreach (var chain in chains)
        {
            var statuses = Rows(connection,
                "SELECT Status, COUNT(*) FROM OpenIddictTokens WHERE Type = $type AND AuthorizationId = $grant GROUP BY Status;",
                ("$type", RefreshTokenType), ("$grant", chain.AuthorizationId)).ToDictionary(row => row[0], row => int.Parse(row[1], System.Globalization.CultureInfo.InvariantCulture));
            var redeemed = statuses.GetValueOrDefault("redeemed");
            var valid = statuses.GetValueOrDefault("valid");
            var acknowledged = chain.Redeemed.Count;
            if (chain.InFlight is null)
            {
                // Every acknowledged rotation is there, and nothing else happened to the chain.
                if (redeemed != acknowledged || valid != 1)
                {
                    ledger.Violation($"{chain}: the database holds {redeemed} redeemed and {valid} valid refresh tokens; expected {acknowledged} and 1 ({Format(statuses)})");
                }
            }
            else if (redeemed == acknowledged && valid == 1)
            {
                committed[chain] = false;
            }
            else if (redeemed == acknowledged + 1 && valid <= 1)
            {
                // Redeemed, and its successor written or not: the client never saw it either way.
                committed[chain] = true;
            }
            else
            {
                ledger.Violation($"{chain}: the database holds {redeemed} redeemed and {valid} valid refresh tokens; expected {acknowledged} (+1 for the refresh in flight) and at most 1 ({Format(statuses)})");
            }
        }
        return committed;
    }

    private static List<string[]> Rows(SqliteConnection connection, string sql, params (string Name, string Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        using var reader = command.ExecuteReader();
        var rows = new List<string[]>();
        while (reader.Read())
        {
            rows.Add([.. Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "")]);
        }
        return rows;
    }

    private static string Format(List<string[]> rows) => rows.Count == 0 ? "(no rows)" : string.Join("; ", rows.Select(r => string.Join(" | ", r)));

    private static string Format(Dictionary<string, int> counts) => string.Join(", ", counts.Select(c => $"{c.Key}: {c.Value}"));
}
