using ClientSamples.EndToEndTests.Infrastructure;

namespace ClientSamples.EndToEndTests.Cluster;

/// <summary>A test that runs the identity provider as a cluster: skipped when the machine lacks a piece of it, unless CI requires it (see <see cref="ClusterRequirements"/>).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class ClusterFactAttribute() : RequirementFactAttribute(ClusterRequirements.SkipReason);
