using IdentityServer.Localization;
using IdentityServer.Branding;
using Microsoft.Extensions.Options;
using IdentityServer.Authorization;
using IdentityServer.Data;
using IdentityServer.RateLimiting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityServer.Hosting;

/// <summary>Web host concerns shared by every feature: pages, limits, error handling, security headers.</summary>
internal static class HostingSetup
{
    /// <summary>
    /// Protocol endpoints answer with OAuth errors of their own; only UI paths get the HTML error
    /// page. Health probes are here too so that a 503 reaches the load balancer as it is.
    /// </summary>
    private static readonly string[] ProtocolPaths = ["/connect", "/.well-known", "/api", "/health"];

    /// <summary>Discovery and the key set: public, and cacheable by clients.</summary>
    private static readonly PathString PublicMetadataPath = "/.well-known";

    /// <summary>
    /// Scripts only from our own files (wwwroot/js); no inline script runs except, by its hash, the
    /// one-line auto-submit of OpenIddict's response_mode=form_post page ("document.form.submit();").
    /// Images also from the configured logo's origin (<c>Branding:LogoUrl</c>), if it is on another host.
    /// </summary>
    internal static string ContentSecurityPolicy(string? logoOrigin) =>
        "default-src 'self'; script-src 'self' 'sha256-j7OoGArf6XW6YY4cAyS3riSSvrJRqpSi1fOF9vQ5SrI='; " +
        $"img-src 'self' data:{(logoOrigin is null ? "" : " " + logoOrigin)}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static WebApplicationBuilder AddHosting(this WebApplicationBuilder builder)
    {
        builder.Services.TryAddSingleton(TimeProvider.System);
        // No page takes jQuery-style form keys ("a[b]"), and their parser throws on a key with an
        // unbalanced bracket: a 500, and an empty one, since the error page re-reads the form.
        builder.Services.AddRazorPages(static options =>
                // A page answers GET (HEAD) and POST: another method (TRACE, PUT, ...) would render it without
                // running any handler, so without its model (a 500). Routing answers 405 instead.
                options.Conventions.AddFolderApplicationModelConvention("/", static page =>
                    page.EndpointMetadata.Add(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head, HttpMethods.Post]))))
            .AddMvcOptions(static options => options.ValueProviderFactories.RemoveType<JQueryFormValueProviderFactory>());

        // Cookie and antiforgery keys survive a restart. On PostgreSQL they live in the database, so a
        // cookie made by one node opens on every other; SQLite means one node, and its keys stay in a
        // folder next to the database file (default App_Data/keys under the content root), out of
        // the file that backups and copies of the database carry around.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("IdentityServer");
        if (DatabaseSetup.ReadProvider(builder.Configuration) == DatabaseProvider.Postgres)
        {
            dataProtection.PersistKeysToDbContext<ApplicationDbContext>();
        }
        else
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(
                builder.Environment.ContentRootPath, builder.Configuration["DataProtection:KeysPath"] ?? "App_Data/keys")));
        }
        builder.Services.AddAuthorization();
        // ASP.NET Core logs an antiforgery token it cannot read (a cookie or field cut short or made up
        // by whoever sent it) as an error with a stack trace; the form is refused (400) all the same.
        // Anyone could fill the log with those, so this category's errors are left out; its warnings stay.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Antiforgery", static level => level == LogLevel.Warning);

        // Bound what a hostile client can make us read: forms and headers stay small.
        builder.Services.Configure<FormOptions>(options =>
        {
            options.ValueLengthLimit = 64 * 1024;
            options.KeyLengthLimit = 1024;
            options.ValueCountLimit = 256;
            options.MultipartBodyLengthLimit = 64 * 1024;
        });
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.Limits.MaxRequestBodySize = 1024 * 1024;
            options.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        });
        return builder;
    }

    private static bool IsProtocolPath(HttpContext context) =>
        context.Request.Path.StartsWithAny(ProtocolPaths);

    public static WebApplication UseHosting(this WebApplication app)
    {
        // First of all, one leading slash: OpenIddict resolves "//connect/token" to its token endpoint, so
        // every path-based policy after this (rate limits, form limits, error handling) must see that path
        // as "/connect/token" too. Before, such a path escaped the client-authentication rate limit.
        app.Use(static (context, next) =>
        {
            if (context.Request.Path.Value is { Length: > 1 } path && path[0] == '/' && path[1] == '/')
            {
                context.Request.Path = new PathString("/" + path.TrimStart('/'));
            }
            return next(context);
        });
        // Before anything reads Request.Host, which throws for some values Kestrel accepts.
        app.UseHostHeaderCheck();
        // Then, so that everything after sees the client's address and scheme.
        app.UseConfiguredForwardedHeaders();
        // Next, so that every log line of the request, errors included, carries its correlation id.
        app.UseMiddleware<CorrelationIdMiddleware>();
        // Then the reader's language, which error pages re-executed below keep.
        app.UsePageLanguages();
        // Protocol endpoints answer an unexpected failure with RFC 6749's JSON server_error; pages get
        // the friendly error page. Neither shows exception details.
        app.UseWhen(
            static context => IsProtocolPath(context),
            static branch => branch.UseExceptionHandler(static error => error.Run(static context => ProtocolErrors.WriteJsonAsync(
                context, StatusCodes.Status500InternalServerError, "server_error", "The server could not complete the request. Try again later."))));
        app.UseWhen(static context => !IsProtocolPath(context), static branch => branch.UseExceptionHandler("/Error"));
        app.UseWhen(static context => !IsProtocolPath(context), static branch => branch.UseStatusCodePagesWithReExecute("/Error/{0}"));
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        var policy = ContentSecurityPolicy(app.Services.GetRequiredService<IOptions<BrandingOptions>>().Value.LogoOrigin);
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.ContentSecurityPolicy = policy;
            if (!context.Request.Path.StartsWithSegments(PublicMetadataPath))
            {
                // Pages, the admin API and the protocol endpoints carry personal data or tokens: no
                // cache may keep them (a shared proxy, the back button of a shared computer).
                headers.CacheControl = "no-store";
                headers.Pragma = "no-cache";
            }
            return next(context);
        });

        // The stylesheet and scripts hold nothing personal: cached, but revalidated (ETag) so an upgrade shows at once.
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = static file =>
            {
                file.Context.Response.Headers.CacheControl = "no-cache";
                file.Context.Response.Headers.Remove("Pragma");
            },
        });
        app.UseRouting();
        app.UseFormLimits();
        // Before authentication: OpenIddict checks client secrets there.
        app.UseClientAuthenticationLimit();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }
}
