using Microsoft.Extensions.Options;

namespace IdentityServer.Email;

/// <summary>Outgoing mail (configuration section <c>Email</c>): the sender, the queue sent after the response, and start-up checks.</summary>
internal static class EmailSetup
{
    public static WebApplicationBuilder AddEmail(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<EmailOptions>()
            .Bind(builder.Configuration.GetSection(EmailOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<EmailOptions>, EmailOptionsValidation>();
        builder.Services.AddSingleton<MailSender>();
        builder.Services.AddSingleton<MailQueue>();
        builder.Services.AddScoped<MailDelivery>();
        builder.Services.AddHostedService<MailQueueWorker>();
        return builder;
    }
}
