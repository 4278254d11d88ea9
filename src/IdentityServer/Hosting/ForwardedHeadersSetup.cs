using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace IdentityServer.Hosting;

/// <summary>
/// Behind a TLS-terminating proxy the server sees plain HTTP from the proxy's address. With
/// <c>ForwardedHeaders:Enabled</c> it takes the client address and scheme from X-Forwarded-For and
/// X-Forwarded-Proto, but only from the proxies listed in <c>ForwardedHeaders:KnownProxies</c>
/// (addresses) or <c>ForwardedHeaders:KnownNetworks</c> (CIDR ranges); with neither listed only
/// loopback is trusted. The host name is not taken from the proxy: set <c>IdentityServer:Issuer</c>
/// so every node issues the same issuer whatever Host header reaches it.
/// </summary>
internal static class ForwardedHeadersSetup
{
    public static WebApplicationBuilder AddForwardedHeaders(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("ForwardedHeaders");
        if (!section.GetValue<bool>("Enabled"))
        {
            return builder;
        }
        // Parsed here, not when the options are first read, so a typo stops start-up at once.
        var proxies = (section.GetSection("KnownProxies").Get<string[]>() ?? []).Select(static proxy =>
            IPAddress.TryParse(proxy, out var address)
                ? address
                : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address.")).ToList();
        var networks = (section.GetSection("KnownNetworks").Get<string[]>() ?? []).Select(static network =>
            System.Net.IPNetwork.TryParse(network, out var range)
                ? range
                : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a CIDR range such as 10.0.0.0/8.")).ToList();
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (proxies.Count == 0 && networks.Count == 0)
            {
                return; // the defaults: loopback only
            }
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            proxies.ForEach(options.KnownProxies.Add);
            networks.ForEach(options.KnownIPNetworks.Add);
        });
        builder.Services.AddSingleton(new ForwardedHeadersMarker());
        return builder;
    }

    public static WebApplication UseConfiguredForwardedHeaders(this WebApplication app)
    {
        if (app.Services.GetService<ForwardedHeadersMarker>() is not null)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }

    /// <summary>Present in the container when forwarded headers are enabled.</summary>
    private sealed class ForwardedHeadersMarker;
}
