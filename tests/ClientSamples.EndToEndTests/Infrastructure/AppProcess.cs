using System.Collections.Concurrent;
using System.Diagnostics;

namespace ClientSamples.EndToEndTests.Infrastructure;

/// <summary>
/// One of the apps running as its own process (<c>dotnet App.dll</c>), as a developer would start it, with
/// its console output kept for assertions and for the failure message when it does not start.
/// </summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private int disposed;

    private AppProcess(string name, Process process)
    {
        Name = name;
        this.process = process;
    }

    public string Name { get; }

    public IReadOnlyList<string> Output => [.. output];

    /// <summary>Starts <paramref name="project"/>'s built assembly from its output folder (where its appsettings.json is).</summary>
    public static AppProcess Start(string name, string project, string assembly, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var folder = BuildOutput.Folder(project);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(folder, assembly));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        // Nothing from the machine's or the test runner's environment decides how the app runs.
        foreach (var variable in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_ENVIRONMENT" })
        {
            start.Environment.Remove(variable);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var app = new AppProcess(name, process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { app.output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { app.output.Enqueue(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    /// <summary>Waits until <paramref name="url"/> answers at all (any status), failing with the app's output otherwise.</summary>
    public async Task WaitUntilServingAsync(Uri url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} during start-up:\n{Tail()}");
            }
            try
            {
                using var _ = await http.GetAsync(url);
                return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} did not answer {url} within {timeout}:\n{Tail()}");
    }

    /// <summary>Waits until the output satisfies <paramref name="condition"/>; a deadline, never a fixed sleep.</summary>
    public async Task<IReadOnlyList<string>> WaitForOutputAsync(Func<IReadOnlyList<string>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var lines = Output;
            if (condition(lines))
            {
                return lines;
            }
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                throw new TimeoutException($"{Name}: the expected output did not appear within {timeout}:\n{Tail()}");
            }
            await Task.Delay(100);
        }
    }

    public string Tail(int lines = 60) => string.Join('\n', Output.TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        // The fixture disposes every process it started, including those a test already disposed.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }
}
