using System.Net;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>
/// A node that dies (killed: no graceful shutdown) costs the cluster nothing but capacity: nginx sends
/// sign-ins to the surviving node, and the surviving node's scheduler takes over the jobs. A class of its
/// own, with its own cluster, because it leaves the cluster with one node.
/// </summary>
public sealed class NodeFailureTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    [ClusterFact]
    public Task NodeKilled_SignInsAndJobsGoOnOnTheOtherNode() => cluster.WithLogsOnFailureAsync(async () =>
    {
        // Kill the node that ran the latest pruning firing: the survivor then has to take the job over.
        var before = await cluster.WaitForPruningFiringsAsync(f => f.Count > 0, ClusterFixture.SchedulerInterval + TimeSpan.FromSeconds(20));
        var victim = before.MaxBy(f => f.ScheduledAt)!.Node;
        var survivor = cluster.Nodes.Single(n => n != victim);
        var killedAt = DateTimeOffset.UtcNow;
        await victim.Process.KillAsync();

        // A browser sign-in through nginx: every response comes from the survivor.
        await using var context = await cluster.NewBrowserContextAsync();
        var flow = await BrowserSignIn.RunAsync(await context.NewPageAsync(), cluster.Issuer);
        Assert.All(flow.Served, response => Assert.Equal(survivor, cluster.NodeAt(response.Upstream)));
        var tokens = await cluster.Proxy.RedeemCodeAsync(flow);
        Assert.Equal(survivor, cluster.NodeAt(tokens.Upstream));
        Assert.True(await cluster.Proxy.IsActiveAsync(tokens.AccessToken));

        // The jobs: firings scheduled after the kill run on the survivor. A node silent for about two
        // check-in intervals is taken for dead, and its triggers are recovered.
        const int Firings = 3;
        var after = await cluster.WaitForPruningFiringsAsync(
            f => f.Count(x => x.ScheduledAt > killedAt) >= Firings,
            ClusterFixture.SchedulerInterval * (Firings + 4) + TimeSpan.FromSeconds(20));
        Assert.All(after.Where(f => f.ScheduledAt > killedAt), f => Assert.Equal(survivor, f.Node));
        Assert.All(after.GroupBy(f => f.ScheduledAt), firing => Assert.Single(firing));
    });
}
