using ClientSamples.Worker;

var builder = Host.CreateApplicationBuilder(args);

builder.AddWorkerSettings();
builder.AddClientCredentials();
builder.AddApiCaller();

await builder.Build().RunAsync();
