using System.Reflection;
using System.Security.Cryptography;
using IdentityServer.Seeding;
using Microsoft.Extensions.Options;

namespace IdentityServer.Hosting;

/// <summary>
/// A server that cannot start for a reason its operator can fix (a missing setting, an unreadable
/// certificate, a bad seed file, a database that holds the demo set) says so in one paragraph on
/// standard error and exits with status 1, rather than printing a stack trace. Other exceptions keep
/// theirs. In tests the server runs inside the test host, which reads the exception itself: nothing
/// is caught there.
/// </summary>
internal static class StartupFailure
{
    public const int ExitCode = 1;

    /// <summary>True (after printing the reason) when <paramref name="error"/> is a configuration problem of a server started on its own.</summary>
    public static bool Report(Exception error)
    {
        if (Assembly.GetEntryAssembly() != typeof(StartupFailure).Assembly || !IsConfigurationProblem(error))
        {
            return false;
        }
        var reasons = new List<string>();
        for (var current = error; current is not null; current = current.InnerException)
        {
            reasons.Add(current.Message);
        }
        Console.Error.WriteLine("The identity provider did not start: " + string.Join(" ", reasons.Distinct()));
        return true;
    }

    private static bool IsConfigurationProblem(Exception error) => error is InvalidOperationException
        or OptionsValidationException or SeedException or CryptographicException
        or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException;
}
