using System.Diagnostics;
using System.Text;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>
/// A command the docs tell a user to run (<c>dotnet run</c>, a published server, a shell recipe), as
/// a real process: its output collected, waited for by a line or by its exit, killed with its
/// children when disposed.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> awaited = [];

    private ServerProcess(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        process = new Process { StartInfo = start };
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Everything written to standard output and error so far.</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>
    /// The README's <c>dotnet run --project src/IdentityServer</c> of the server as built for this test
    /// run (<c>--no-build</c>), on a database and folders of its own under <paramref name="folder"/>.
    /// </summary>
    public static ServerProcess DotnetRun(string folder, string urls, IReadOnlyDictionary<string, string>? environment = null) => Start("dotnet",
        [
            "run", "--no-build", "-c", BuildConfiguration, "--project", "src/IdentityServer", "--",
            "--urls", urls,
            $"--ConnectionStrings:Default=Data Source={Path.Combine(folder, "idp.db")}",
            $"--DataProtection:KeysPath={Path.Combine(folder, "keys")}",
            $"--Certificates:DevelopmentPath={Path.Combine(folder, "certs")}",
            $"--Email:PickupFolder={Path.Combine(folder, "mail")}",
        ],
        Repository.Root,
        environment);

    /// <summary>A loopback port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The configuration this test run was built in: <c>dotnet run --no-build</c> must name the same.</summary>
    private static string BuildConfiguration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static ServerProcess Start(string fileName, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName) { WorkingDirectory = workingDirectory };
        // What the test machine's shell may have set must not choose for the command under test.
        foreach (var variable in new[] { "ASPNETCORE_ENVIRONMENT", "DOTNET_ENVIRONMENT", "ASPNETCORE_URLS", "IDP_LAUNCH_ENVIRONMENT" })
        {
            start.Environment.Remove(variable);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return new ServerProcess(start);
    }

    /// <summary>Waits until a line containing <paramref name="text"/> appears; fails with the output when it does not in time or the process ends first.</summary>
    public async Task WaitForLineAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (output)
        {
            if (output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return;
            }
            awaited.Add((text, seen));
        }
        using var cancel = new CancellationTokenSource(timeout);
        await Task.WhenAny(seen.Task, process.WaitForExitAsync(cancel.Token).ContinueWith(static _ => { }, TaskScheduler.Default));
        Assert.True(seen.Task.IsCompleted, $"'{text}' did not appear within {timeout}{(process.HasExited ? $" (exit status {process.ExitCode})" : "")}:\n{Output}");
    }

    /// <summary>Waits for the process to end on its own; its exit status.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The process did not end within {timeout}:\n{Output}");
        }
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }

    private void Collect(object sender, DataReceivedEventArgs line)
    {
        if (line.Data is null)
        {
            return;
        }
        lock (output)
        {
            output.AppendLine(line.Data);
            foreach (var (text, seen) in awaited.Where(a => line.Data.Contains(a.Text, StringComparison.Ordinal)).ToList())
            {
                seen.TrySetResult();
                awaited.Remove((text, seen));
            }
        }
    }
}
