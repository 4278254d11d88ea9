using System.Globalization;
using Microsoft.AspNetCore.Razor.TagHelpers;

namespace IdentityServer.Hosting;

/// <summary>
/// <c>&lt;local-time value="@moment" /&gt;</c>: a moment as <c>&lt;time data-local datetime="…"&gt;2026-12-05 14:03 UTC&lt;/time&gt;</c>.
/// The page shows UTC; the pages' script rewrites every <c>time[data-local]</c> in the reader's own time zone.
/// Nothing is written for no value.
/// </summary>
[HtmlTargetElement("local-time", TagStructure = TagStructure.WithoutEndTag)]
public sealed class LocalTimeTagHelper : TagHelper
{
    public DateTimeOffset? Value { get; set; }

    public override void Process(TagHelperContext context, TagHelperOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Value is not { } value)
        {
            output.SuppressOutput();
            return;
        }
        output.TagName = "time";
        output.TagMode = TagMode.StartTagAndEndTag;
        output.Attributes.SetAttribute(new TagHelperAttribute("data-local", null, HtmlAttributeValueStyle.Minimized));
        output.Attributes.SetAttribute("datetime", value.ToString("O", CultureInfo.InvariantCulture));
        output.Content.SetContent(value.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
    }
}
