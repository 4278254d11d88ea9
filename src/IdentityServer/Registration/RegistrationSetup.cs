namespace IdentityServer.Registration;

/// <summary>Self-registration (<c>Accounts:AllowRegistration</c>, off by default): the options and the service behind <c>/Account/Register</c>.</summary>
internal static class RegistrationSetup
{
    public static WebApplicationBuilder AddRegistration(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RegistrationOptions>()
            .Bind(builder.Configuration.GetSection(RegistrationOptions.Section))
            .ValidateOnStart();
        builder.Services.AddScoped<Registrations>();
        return builder;
    }
}
