using System.Text;
using System.Text.Encodings.Web;
using MimeKit;

namespace IdentityServer.Email;

/// <summary>
/// A short mail in the one layout every mail of the server has: paragraphs, at most one action
/// link, and a closing note; written as plain text and as simple HTML (no styles, no images).
/// Values are encoded here, so templates pass plain text.
/// </summary>
internal sealed record MailTemplate(string Subject, IReadOnlyList<string> Paragraphs, string? ActionText = null, Uri? ActionLink = null, string? Closing = null)
{
    public MimeMessage ToMessage(MailboxAddress from, string productName, string to)
    {
        ArgumentNullException.ThrowIfNull(from);
        var message = new MimeMessage();
        message.From.Add(from);
        message.To.Add(new MailboxAddress(null, to));
        message.Subject = $"{productName}: {Subject}";
        message.Body = new BodyBuilder { TextBody = Text(productName), HtmlBody = Html(productName) }.ToMessageBody();
        return message;
    }

    private string Text(string productName)
    {
        var text = new StringBuilder();
        foreach (var paragraph in Paragraphs)
        {
            text.Append(paragraph).Append("\n\n");
        }
        if (ActionLink is not null)
        {
            text.Append(ActionText).Append(":\n").Append(ActionLink.AbsoluteUri).Append("\n\n");
        }
        if (Closing is not null)
        {
            text.Append(Closing).Append("\n\n");
        }
        return text.Append("-- \n").Append(productName).Append('\n').ToString();
    }

    private string Html(string productName)
    {
        var html = HtmlEncoder.Default;
        var body = new StringBuilder("<!DOCTYPE html>\n<html><body>\n");
        foreach (var paragraph in Paragraphs)
        {
            body.Append("<p>").Append(html.Encode(paragraph)).Append("</p>\n");
        }
        if (ActionLink is not null)
        {
            body.Append("<p><a href=\"").Append(html.Encode(ActionLink.AbsoluteUri)).Append("\">").Append(html.Encode(ActionText ?? ActionLink.AbsoluteUri)).Append("</a></p>\n")
                .Append("<p>").Append(html.Encode(Localization.Texts.Get("If the link does not open, copy this address into your browser:"))).Append("<br>").Append(html.Encode(ActionLink.AbsoluteUri)).Append("</p>\n");
        }
        if (Closing is not null)
        {
            body.Append("<p>").Append(html.Encode(Closing)).Append("</p>\n");
        }
        return body.Append("<p>&mdash; ").Append(html.Encode(productName)).Append("</p>\n</body></html>\n").ToString();
    }
}
