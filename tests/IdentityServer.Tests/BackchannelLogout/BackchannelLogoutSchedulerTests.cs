using IdentityServer.BackchannelLogout;
using IdentityServer.Sessions;
using IdentityServer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Quartz.Impl.Triggers;

namespace IdentityServer.Tests.BackchannelLogout;

/// <summary>The server as deployed: Quartz runs, so ending a session is all it takes.</summary>
public sealed class SchedulingBackchannelLogoutFactory : BackchannelLogoutFactory
{
    protected override bool RunScheduler => true;
}

public sealed class BackchannelLogoutSchedulerTests(SchedulingBackchannelLogoutFactory factory) : IClassFixture<SchedulingBackchannelLogoutFactory>
{
    [Fact]
    public async Task Scheduler_SessionEnds_SignalDeliversWithoutWaitingForThePoll()
    {
        using var browser = factory.CreateOidcClient();
        var tokens = await BackchannelLogoutFactory.SignInAsync(browser, BackchannelLogoutFactory.Notes);
        var sessionId = Jwt.Payload(tokens["id_token"]!).GetProperty("sid").GetString()!;

        await factory.WithScopeAsync(services => services.GetRequiredService<SessionService>()
            .EndAsync(sessionId, SessionEndReasons.EndedByUser, "user", CancellationToken.None));

        // The poll interval is 30 s; the signal has the job run now.
        var receipts = await factory.Receiver.WaitForAsync(r => r.Count > 0, TimeSpan.FromSeconds(20));
        Assert.Equal(BackchannelLogoutFactory.Notes, Assert.Single(receipts).Client);
        Assert.Equal(sessionId, Jwt.Payload(receipts[0].LogoutToken).GetProperty("sid").GetString());

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while ((await factory.DeliveriesAsync(sessionId)).Single().Status != BackchannelLogoutStatus.Delivered)
        {
            await Task.Delay(50, deadline.Token);
        }
    }

    [Fact]
    public async Task Scheduler_DeliveryJob_IsDurableSingleRunAndPollsEveryInterval()
    {
        _ = factory.Server;
        var scheduler = await factory.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var job = await scheduler.GetJobDetail(BackchannelLogoutOutbox.JobKey);
        Assert.NotNull(job);
        Assert.True(job.Durable);
        Assert.True(job.ConcurrentExecutionDisallowed);
        var trigger = Assert.IsAssignableFrom<ISimpleTrigger>(Assert.Single(await scheduler.GetTriggersOfJob(BackchannelLogoutOutbox.JobKey),
            t => t is ISimpleTrigger { RepeatCount: SimpleTriggerImpl.RepeatIndefinitely }));
        Assert.Equal(TimeSpan.FromSeconds(30), trigger.RepeatInterval);
    }
}
