using Microsoft.Extensions.DependencyInjection;

namespace ClientSamples.Api.Validation;

internal static class IntrospectionCacheSetup
{
    /// <summary>Adds the introspection cache when <paramref name="seconds"/> is above zero; otherwise every request introspects.</summary>
    public static OpenIddictValidationBuilder AddIntrospectionCache(this OpenIddictValidationBuilder builder, int seconds)
    {
        if (seconds <= 0)
        {
            return builder;
        }
        builder.Services.AddSingleton(services => new IntrospectionCache(
            TimeSpan.FromSeconds(seconds), services.GetService<TimeProvider>() ?? TimeProvider.System));
        return builder
            .AddEventHandler(IntrospectionCache.Lookup.Descriptor)
            .AddEventHandler(IntrospectionCache.Store.Descriptor);
    }
}
