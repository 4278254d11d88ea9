namespace IdentityServer.Data;

/// <summary>Which database engine <c>ConnectionStrings:Default</c> points at (<c>Database:Provider</c>).</summary>
internal enum DatabaseProvider
{
    /// <summary>One file next to the server; one node only. The default.</summary>
    Sqlite,

    /// <summary>A PostgreSQL server shared by any number of nodes.</summary>
    Postgres,
}
