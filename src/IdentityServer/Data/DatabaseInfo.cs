namespace IdentityServer.Data;

/// <summary>The provider chosen at start-up, for the few places that differ (data protection keys, start-up lock).</summary>
internal sealed record DatabaseInfo(DatabaseProvider Provider);
