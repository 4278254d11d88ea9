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
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { WorkingDirectory = folder };
        start.ArgumentList.Add(Path.Combine(folder, assembly));
        // Nothing from the machine's or the test runner's environment decides how the app runs.
        foreach (var variable in new[] { "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_ENVIRONMENT" })
        {
            start.Environment.Remove(variable);
        }
        // The default; a caller's environment may name another (cluster nodes run as Production).
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return Run(name, start, arguments);
    }

    /// <summary>Starts a program that is not one of ours (nginx), with the same output capture.</summary>
    public static AppProcess StartProgram(string name, string program, string workingDirectory, IEnumerable<string> arguments) =>
        Run(name, new ProcessStartInfo(program) { WorkingDirectory = workingDirectory }, arguments);

    private static AppProcess Run(string name, ProcessStartInfo start, IEnumerable<string> arguments)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
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

    /// <summary>
    /// Waits until <paramref name="url"/> answers (any status, or with <paramref name="requireSuccess"/> a
    /// success status, as a readiness probe), failing with the app's output otherwise. <paramref name="http"/>
    /// is for URLs a default client cannot reach (a test's own TLS certificate).
    /// </summary>
    public async Task WaitUntilServingAsync(Uri url, TimeSpan timeout, HttpClient? http = null, bool requireSuccess = false)
    {
        using var own = http is null ? new HttpClient() : null;
        var client = http ?? own!;
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} during start-up:\n{Tail()}");
            }
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                using var response = await client.GetAsync(url, attempt.Token);
                if (!requireSuccess || response.IsSuccessStatusCode)
                {
                    return;
                }
                last = $"{(int)response.StatusCode} {response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            catch (TaskCanceledException)
            {
                last = "no answer within 2 s";
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{Name} did not answer {url} within {timeout} (last: {last}):\n{Tail()}");
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

    /// <summary>Ends the process at once, as a crash or a lost machine would: no graceful shutdown.</summary>
    public async Task KillAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        // The fixture disposes every process it started, including those a test already disposed.
        if (Interlocked.Exchange(ref disposed, 1) == 1)
        {
            return;
        }
        await KillAsync();
        process.Dispose();
    }
}
