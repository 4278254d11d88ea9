using System.Text.RegularExpressions;
using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests;

[Collection(SamplesDefinition.Name)]
public sealed partial class WorkerTests(SamplesFixture samples)
{
    [Fact]
    public async Task Worker_SeveralApiCalls_ReuseOneDPoPBoundClientCredentialsToken()
    {
        await using var worker = samples.StartWorker(TimeSpan.FromMilliseconds(300));

        var output = await worker.WaitForOutputAsync(lines => lines.Count(l => ApiCall().IsMatch(l)) >= 3, TimeSpan.FromSeconds(60));

        var calls = output.Select(l => ApiCall().Match(l)).Where(m => m.Success).ToList();
        Assert.All(calls, call => Assert.Equal("200", call.Groups["status"].Value));
        // The API saw a DPoP-bound token (its cnf.jkt) and checked the worker's proof with every call.
        Assert.All(output.Where(l => ApiCall().IsMatch(l)), line => Assert.Matches("\"boundTo\":\"[A-Za-z0-9_-]{43}\"", line));
        Assert.Single(output, line => line.Contains("Token request ", StringComparison.Ordinal));
    }

    [GeneratedRegex(@"Api call \d+: (?<status>\d{3}) ")]
    private static partial Regex ApiCall();
}
