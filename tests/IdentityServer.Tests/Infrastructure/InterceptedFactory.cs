using IdentityServer.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityServer.Tests.Infrastructure;

/// <summary>A test host whose database context carries one more EF Core interceptor (whichever provider runs); Quartz is off.</summary>
public abstract class InterceptedFactory : IdentityServerFactory
{
    protected abstract IInterceptor Interceptor { get; }

    protected override void ConfigureTestServices(IWebHostBuilder builder) =>
        builder.ConfigureTestServices(services =>
        {
            RemoveScheduler(services);
            // The PostgreSQL context is registered under its own options type.
            services.ConfigureDbContext<ApplicationDbContext>(options => options.AddInterceptors(Interceptor));
            services.ConfigureDbContext<PostgresApplicationDbContext>(options => options.AddInterceptors(Interceptor));
        });
}
