using IdentityServer.Tests.Infrastructure;

namespace IdentityServer.Tests.Docs;

/// <summary>
/// The test commands the docs give are the ones CI runs: the README's (the whole solution) and
/// docs/testing.md's PostgreSQL run are both in <c>.ci/run</c>, which only adds its own options
/// (a logger, a hang guard, its cluster's port).
/// </summary>
public sealed class TestCommandTests
{
    private static readonly string Ci = File.ReadAllText(Repository.File(".ci", "run"));
    private static readonly char[] Blanks = [' ', '\n'];
    private static readonly string[] PostgresVariables = ["IDP_TEST_DATABASE", "IDP_TEST_POSTGRES"];

    [Fact]
    public void ReadmeTestCommand_IsRunByCi()
    {
        var command = Markdown.BashBlock(File.ReadAllText(Repository.File("README.md")), "dotnet test").Trim();

        Assert.StartsWith("dotnet test IdP.sln", command, StringComparison.Ordinal);
        Assert.Contains(command + " ", Ci, StringComparison.Ordinal);
    }

    [Fact]
    public void PostgresTestCommand_IsRunByCi()
    {
        var words = Markdown.BashBlock(File.ReadAllText(Repository.File("docs", "testing.md")), "IDP_TEST_DATABASE=Postgres")
            .Replace("\\\n", " ", StringComparison.Ordinal)
            .Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        var command = string.Join(' ', words.SkipWhile(static w => w.Contains('=', StringComparison.Ordinal)));
        var variables = words.TakeWhile(static w => w.Contains('=', StringComparison.Ordinal)).Select(static w => w.Split('=')[0]).ToList();

        Assert.StartsWith("dotnet test tests/IdentityServer.Tests", command, StringComparison.Ordinal);
        Assert.Contains(command + " ", Ci, StringComparison.Ordinal);
        Assert.Equal(PostgresVariables, variables);
        Assert.Contains("IDP_TEST_DATABASE=Postgres \\\n", Ci, StringComparison.Ordinal);
        Assert.Contains("IDP_TEST_POSTGRES=", Ci, StringComparison.Ordinal);
    }
}
