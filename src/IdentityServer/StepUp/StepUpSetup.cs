namespace IdentityServer.StepUp;

/// <summary>
/// Step-up: an application asks for a stronger sign-in than the session has (<c>acr_values</c>, or
/// <c>RequireMfa</c> in the seed), and the user proves a second factor without signing in again
/// (Account/StepUp), sets one up first (Account/Authenticator), or signs in with a passkey.
/// The authorization endpoint applies it (Pages/Connect/Authorize); discovery advertises the levels
/// (<see cref="AcrDiscoveryHandler"/>, registered with the server's other handlers).
/// </summary>
internal static class StepUpSetup
{
    public static WebApplicationBuilder AddStepUp(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StepUpOptions>()
            .Bind(builder.Configuration.GetSection(StepUpOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddScoped<StepUpPolicy>();
        builder.Services.AddScoped<SessionStepUp>();
        builder.Services.AddSingleton<StepUpLinks>();
        return builder;
    }
}
