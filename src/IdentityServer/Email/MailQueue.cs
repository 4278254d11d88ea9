using System.Threading.Channels;

namespace IdentityServer.Email;

/// <summary>
/// Mail sent after the response, by <see cref="MailQueueWorker"/>: a page whose answer must not
/// tell whether a mail went out (forgot password) answers in the same time either way, whatever
/// the SMTP server does. Kept in memory: a mail still queued when the node stops is lost, and the
/// person asks again.
/// </summary>
internal sealed class MailQueue
{
    /// <summary>Far more than a node sends in the time one SMTP exchange takes; beyond it, mail is refused (and audited).</summary>
    private const int Capacity = 1000;

    private readonly Channel<OutgoingMail> channel = Channel.CreateBounded<OutgoingMail>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>False when the queue is full: the caller records the failure.</summary>
    public bool TryEnqueue(OutgoingMail mail) => channel.Writer.TryWrite(mail);

    internal ChannelReader<OutgoingMail> Reader => channel.Reader;
}
