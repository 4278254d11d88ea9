namespace IdentityServer.Hosting;

/// <summary>
/// Refuses a request whose Host header cannot name this server in a URL: Kestrel lets through
/// values such as an invalid punycode label (<c>xn--lcalhost-1xa</c>), a port above 65535 or a
/// name longer than DNS allows, and then reading <c>Request.Host</c> throws, or OpenIddict cannot
/// build the request URI and leaves the endpoint to code that expects it handled. Either way a 500.
/// </summary>
internal static class HostHeaderMiddleware
{
    /// <summary>The last Host value found usable: almost every request names the same one, checked once.</summary>
    private static string? lastUsable;

    public static IApplicationBuilder UseHostHeaderCheck(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        var host = context.Request.Headers.Host.ToString();
        if (host == Volatile.Read(ref lastUsable))
        {
            return next(context);
        }
        if (IsUsable(host))
        {
            Volatile.Write(ref lastUsable, host);
            return next(context);
        }
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync("Invalid Host header.", context.RequestAborted);
    });

    /// <summary>A Host value ASP.NET Core can decode and System.Uri accepts as an authority (no user info, path or query).</summary>
    internal static bool IsUsable(string host)
    {
        // An HTTP/1.0 request may omit it; Kestrel answers HTTP/1.1 requests without one itself.
        if (host.Length == 0)
        {
            return true;
        }
        try
        {
            _ = HostString.FromUriComponent(host);
        }
        catch (ArgumentException)
        {
            return false;
        }
        return Uri.TryCreate("https://" + host + "/", UriKind.Absolute, out var uri)
            && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0;
    }
}
