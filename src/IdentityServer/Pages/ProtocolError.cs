namespace IdentityServer.Pages;

/// <summary>
/// What the error page shows: plain words for the <see cref="Kind"/> of problem, and the OAuth error
/// code with its description in small print for whoever has to fix it. Never exception details.
/// </summary>
public sealed record ProtocolError(string? Error, string? Description, ErrorKind Kind = ErrorKind.Application);

/// <summary>Who the problem is for, which decides what the page says to the person reading it.</summary>
public enum ErrorKind
{
    /// <summary>An application sent a request this server refuses: the person should go back to it.</summary>
    Application,

    /// <summary>A typed or stale address: no page here.</summary>
    NotFound,

    /// <summary>Signed in, but this page is not for this account.</summary>
    Forbidden,

    /// <summary>A rate limit: the description says how long to wait.</summary>
    TooManyRequests,

    /// <summary>Our fault: nothing the person did.</summary>
    Server,

    /// <summary>A request of this server's own pages that could not be processed (an expired form, say).</summary>
    Request,
}
