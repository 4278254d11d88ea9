using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>One identity-provider process of the cluster, listening on plain HTTP on loopback behind nginx.</summary>
internal sealed class ClusterNode(string name, int port, AppProcess process, ServerClient client)
{
    /// <summary>Also its scheduler instance id, which the pruning job logs.</summary>
    public string Name => name;

    public AppProcess Process => process;

    /// <summary>Calls to this node alone, bypassing nginx.</summary>
    public ServerClient Client => client;

    /// <summary>How nginx names this node in <c>X-Upstream</c>.</summary>
    public string Upstream => $"127.0.0.1:{port}";

    public override string ToString() => $"{name} ({Upstream})";
}
