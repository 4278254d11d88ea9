namespace ClientSamples.WebApp.BackchannelLogout;

internal static partial class BackchannelLogoutSetup
{
    public static void AddBackchannelLogout(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EndedSessions>();
        builder.Services.AddSingleton<LogoutTokenValidator>();
    }

    /// <summary>
    /// The <c>BackchannelLogoutUri</c> registered for this app: the identity provider POSTs
    /// <c>logout_token</c> here, server to server, when a session this app took part in ends. No cookie and no
    /// antiforgery token comes with it; the signed token is the only proof.
    /// </summary>
    public static void MapBackchannelLogout(this WebApplication app) =>
        app.MapPost("/backchannel-logout", async (HttpContext context, LogoutTokenValidator validator, EndedSessions ended, ILoggerFactory loggers) =>
        {
            var logger = loggers.CreateLogger(typeof(BackchannelLogoutSetup));
            // Section 2.8: the answer must not be cached.
            context.Response.Headers.CacheControl = "no-store";

            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
            if (form?["logout_token"].ToString() is not { Length: > 0 } token)
            {
                return Results.BadRequest(new { error = "invalid_request", error_description = "logout_token is missing." });
            }

            var (sid, sub, error) = await validator.ValidateAsync(token, context.RequestAborted);
            if (error is not null)
            {
                LogRejected(logger, error);
                return Results.BadRequest(new { error = "invalid_request", error_description = "The logout token is not valid." });
            }

            ended.Add(sid, sub);
            LogEnded(logger, sid, sub);
            return Results.Ok();
        }).DisableAntiforgery();

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Back-channel logout: session {Sid} of {Sub} ended; its cookie is refused from now on")]
    private static partial void LogEnded(ILogger logger, string? sid, string? sub);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "Back-channel logout: refused a logout token: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);
}
