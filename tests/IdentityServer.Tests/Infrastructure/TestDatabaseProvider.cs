namespace IdentityServer.Tests.Infrastructure;

/// <summary>The database the integration suite runs against (<c>IDP_TEST_DATABASE</c>).</summary>
public enum TestDatabaseProvider
{
    Sqlite,
    Postgres,
}
