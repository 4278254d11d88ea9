namespace Floor;

/// <summary>
/// The <c>Floor</c> section, given by run.sh: the mode and the SQLite file on the command line, the
/// clients' secrets (made up per run, so none is written in the code) in the environment. Database is
/// required except in Degraded mode, ApiSecret only in Stock mode.
/// </summary>
internal sealed record FloorSettings(FloorMode Mode, string? Database, string WorkerSecret, string? ApiSecret)
{
    /// <summary>The client that asks for tokens (client_credentials, and refresh tokens in Stock mode).</summary>
    public const string WorkerClientId = "bench-worker";

    /// <summary>The resource server that introspects the worker's access tokens (Stock mode).</summary>
    public const string ApiClientId = "orders-api";

    /// <summary>The one API scope, and the audience of its tokens.</summary>
    public const string Scope = "orders";
    public const string Resource = "orders-api";

    public bool UsesDatabase => Mode != FloorMode.Degraded;

    public static FloorSettings Read(IConfiguration configuration)
    {
        var section = configuration.GetSection("Floor");
        var modeText = section["Mode"];
        if (!Enum.TryParse<FloorMode>(modeText, ignoreCase: true, out var mode) || !Enum.IsDefined(mode))
        {
            throw new InvalidOperationException(
                $"Floor:Mode must be one of {string.Join(", ", Enum.GetNames<FloorMode>())}, not '{modeText}'.");
        }

        var database = section["Database"];
        if (mode != FloorMode.Degraded)
        {
            if (string.IsNullOrEmpty(database))
            {
                throw new InvalidOperationException($"Floor:Database (the SQLite file) is required in {mode} mode.");
            }
            // Every run measures an empty database: never reuse (or delete) an existing file.
            if (File.Exists(database))
            {
                throw new InvalidOperationException($"Floor:Database '{database}' already exists; each run starts from a new file.");
            }
        }

        return new FloorSettings(
            mode,
            database,
            Required(section, "WorkerSecret"),
            mode == FloorMode.Stock ? Required(section, "ApiSecret") : null);
    }

    private static string Required(IConfigurationSection section, string key) =>
        section[key] is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Floor:{key} is required.");
}
