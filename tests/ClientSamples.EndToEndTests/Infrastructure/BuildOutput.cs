using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>Where the apps were built (the test project references them, so they are built first) and free ports for them.</summary>
internal static class BuildOutput
{
    private static string Metadata(string key) =>
        typeof(BuildOutput).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"Assembly metadata {key} is missing.");

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    /// <summary>The build output of <paramref name="project"/> (a folder under the repository root) in this test run's configuration.</summary>
    public static string Folder(string project)
    {
        var folder = Path.Combine(RepositoryRoot, project, "bin", Metadata("Configuration"), Metadata("TargetFramework"));
        return Directory.Exists(folder) ? folder : throw new DirectoryNotFoundException($"{folder} does not exist: build the solution first.");
    }

    /// <summary>A port nobody listens on right now: the OS picks it, so parallel runs and a developer's own apps never clash.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
