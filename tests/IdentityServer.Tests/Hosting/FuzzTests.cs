using System.Diagnostics;
using System.Globalization;
using IdentityServer.Tests.Hosting.Fuzzing;
using IdentityServer.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IdentityServer.Tests.Hosting;

/// <summary>
/// A bounded, deterministic fuzz of every endpoint over real Kestrel and TLS: a fixed seed and count
/// of requests made from valid ones by dropping, duplicating, oversizing, mis-encoding and mis-typing
/// parameters and headers. <c>IDP_FUZZ_SEED</c>, <c>IDP_FUZZ_COUNT</c> and <c>IDP_FUZZ_ONLY</c>
/// (comma-separated request numbers) change the run; a failure names the seed and number to replay.
/// </summary>
public sealed class FuzzTests(FuzzServerFactory server, ITestOutputHelper output) : IClassFixture<FuzzServerFactory>
{
    private const int DefaultSeed = 20261128;
    private const int DefaultCount = 2000;
    private const int ReportedViolations = 15;

    [Fact]
    public async Task Fuzz_GeneratedHostileRequests_NoServerErrorNoStackTraceNoForeignRedirect()
    {
        var seed = ReadNumber("IDP_FUZZ_SEED") ?? DefaultSeed;
        var indexes = Environment.GetEnvironmentVariable("IDP_FUZZ_ONLY") is { Length: > 0 } only
            ? only.Split(',').Select(static n => int.Parse(n, CultureInfo.InvariantCulture)).ToArray()
            : Enumerable.Range(0, ReadNumber("IDP_FUZZ_COUNT") ?? DefaultCount).ToArray();

        var baseline = await FuzzBaseline.CreateAsync(server);
        var generator = new FuzzGenerator(baseline);
        using var transport = new FuzzTransport(server.Address, server.EndPoint, server.TlsCertificate);
        var violations = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var transports = new Dictionary<string, int>();
        var registeredRedirects = 0;
        var clock = Stopwatch.StartNew();

        foreach (var index in indexes)
        {
            var request = generator.Create(seed, index);
            var logged = server.Errors.Count;
            var response = await transport.SendAsync(request);
            statuses[response.Status] = statuses.GetValueOrDefault(response.Status) + 1;
            transports[response.Transport] = transports.GetValueOrDefault(response.Transport) + 1;
            if (response.Status is >= 300 and < 400 && response.Header("Location") is { } location
                && FuzzBaseline.RegisteredUris.Any(uri => location.StartsWith(uri, StringComparison.Ordinal)))
            {
                registeredRedirects++;
            }

            var problems = FuzzOracle.Check(request, response, baseline.Authority).ToList();
            // An exception the server caught and logged as an error is a defect even when the client got a tidy answer.
            problems.AddRange(server.Errors.Skip(logged).Select(static e => "server logged: " + FuzzRequest.Shorten(e, 600)));
            violations.AddRange(problems.Select(problem => $"{problem}\n    request: {request.Summary(seed)} (via {response.Transport})"));
        }

        output.WriteLine($"{indexes.Length} requests in {clock.Elapsed.TotalSeconds:0.0} s; seed {seed}");
        output.WriteLine("statuses: " + string.Join(", ", statuses.Select(static s => $"{s.Key}×{s.Value}")));
        output.WriteLine("transports: " + string.Join(", ", transports.Select(static t => $"{t.Key}×{t.Value}")));
        output.WriteLine($"redirects to a registered client URI: {registeredRedirects}");
        foreach (var violation in violations)
        {
            output.WriteLine(violation);
        }

        Assert.True(violations.Count == 0,
            $"{violations.Count} violations (seed {seed}; replay one with IDP_FUZZ_SEED={seed} IDP_FUZZ_ONLY=<#>):\n"
            + string.Join("\n", violations.Take(ReportedViolations)));

        if (indexes.Length >= DefaultCount)
        {
            // The run reached the application, not only Kestrel's parser: valid flows still worked.
            Assert.True(statuses.GetValueOrDefault(200) > 100, "too few 200 answers: " + string.Join(", ", statuses));
            Assert.True(statuses.GetValueOrDefault(400) > 100, "too few 400 answers: " + string.Join(", ", statuses));
            Assert.True(registeredRedirects > 20, $"only {registeredRedirects} redirects to a client");
            Assert.True(transports.GetValueOrDefault("raw") > indexes.Length / 5, "too few raw requests: " + string.Join(", ", transports));
        }
    }

    private static int? ReadNumber(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? int.Parse(value, CultureInfo.InvariantCulture) : null;
}
