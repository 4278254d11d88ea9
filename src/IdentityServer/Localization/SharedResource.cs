namespace IdentityServer.Localization;

/// <summary>
/// The one set of user-facing texts of the pages and mails: <c>SharedResource.resx</c> holds every
/// text in English, keyed by the English text itself (so a page reads naturally and a missing
/// translation falls back to English), and <c>SharedResource.&lt;language&gt;.resx</c> the same keys
/// translated. Pages inject it as <c>T</c>; services as <c>IStringLocalizer&lt;SharedResource&gt;</c>.
/// </summary>
public sealed class SharedResource;
