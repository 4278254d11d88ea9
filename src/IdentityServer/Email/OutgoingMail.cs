using MimeKit;

namespace IdentityServer.Email;

/// <summary>
/// A message with what the audit trail records if it cannot be sent: its purpose (such as
/// <c>password_reset</c>) and the account it concerns. Never the message itself: it holds a link.
/// </summary>
internal sealed record OutgoingMail(MimeMessage Message, string Purpose, string? UserId, string? UserName);
