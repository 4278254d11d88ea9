using ClientSamples.WebApp;
using ClientSamples.WebApp.Authentication;
using ClientSamples.WebApp.BackchannelLogout;
using ClientSamples.WebApp.Pages;

var builder = WebApplication.CreateBuilder(args);

builder.AddWebAppSettings();
builder.AddSignIn();
builder.AddBackchannelLogout();
builder.AddPages();

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapSignInEndpoints();
app.MapBackchannelLogout();
app.MapPages();

await app.RunAsync();
