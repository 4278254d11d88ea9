using System.Text;
using System.Text.Encodings.Web;

namespace ClientSamples.WebApp.Pages;

/// <summary>A page frame for the few sample pages; every value put in a page goes through <see cref="E"/>.</summary>
internal static class Html
{
    public static string E(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    public static IResult Page(string appName, string title, string body)
    {
        var html = new StringBuilder()
            .Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
            .Append(E(title)).Append(" – ").Append(E(appName))
            .Append("</title><style>body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem}")
            .Append("pre,dd{white-space:pre-wrap;word-break:break-all}nav a{margin-right:1rem}</style></head><body>")
            .Append("<nav><a href=\"/\">Home</a><a href=\"/claims\">Claims</a><a href=\"/call-api\">Call the API</a></nav>")
            .Append("<h1>").Append(E(title)).Append("</h1>")
            .Append(body)
            .Append("<footer><small>").Append(E(appName)).Append("</small></footer></body></html>")
            .ToString();
        return Results.Content(html, "text/html; charset=utf-8");
    }
}
