namespace IdentityServer.Hosting;

/// <summary>
/// The environment <c>dotnet run</c> starts in. A launch profile's <c>ASPNETCORE_ENVIRONMENT</c>
/// silently replaces the one the user set (<c>ASPNETCORE_ENVIRONMENT=Production dotnet run</c> would
/// still run Development, demo set included), so the profile names its default through
/// <see cref="Variable"/> instead, which applies only when nothing else chose an environment:
/// <c>ASPNETCORE_ENVIRONMENT</c>, <c>DOTNET_ENVIRONMENT</c> and <c>--environment</c> all win over it.
/// A published server has no launch profile and keeps ASP.NET Core's default, Production.
/// </summary>
internal static class LaunchEnvironment
{
    public const string Variable = "IDP_LAUNCH_ENVIRONMENT";

    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = args,
        EnvironmentName = Choose(args, Environment.GetEnvironmentVariable),
    };

    /// <summary>The launch profile's environment, or null when the user chose one (or there is no profile).</summary>
    internal static string? Choose(IReadOnlyList<string> args, Func<string, string?> variable)
    {
        var chosen = !string.IsNullOrEmpty(variable("ASPNETCORE_ENVIRONMENT"))
            || !string.IsNullOrEmpty(variable("DOTNET_ENVIRONMENT"))
            || args.Any(static arg => arg.TrimStart('-', '/').StartsWith("environment", StringComparison.OrdinalIgnoreCase));
        var launch = variable(Variable);
        return chosen || string.IsNullOrEmpty(launch) ? null : launch;
    }
}
