namespace IdentityServer.Tests.Infrastructure;

/// <summary>The repository the tests run from (the folder holding <c>IdP.sln</c>), for tests that read its files.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !System.IO.File.Exists(Path.Combine(folder.FullName, "IdP.sln")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? throw new InvalidOperationException("IdP.sln not found above the test folder.");
    }
}
