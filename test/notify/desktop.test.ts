// Desktop notifications over a real, private D-Bus session bus. The
// org.freedesktop.Notifications server here is a stand-in registered by the
// test (see notificationServer.ts): the desktop's own notification daemon
// cannot run headless here. What is tested is selfheal's side: the Notify
// calls it makes, their rate limit and digest, and how it copes with no server.
import { describe, expect, it } from "vitest";

import { DesktopNotifier } from "../../daemon/notify/desktop.js";
import { SessionNotificationServer } from "../../daemon/notify/desktopBus.js";
import { FakeClock } from "../helpers/fakes.js";
import { startNotificationServer, startPrivateBus, type PrivateBus } from "./notificationServer.js";
import { cleanupsAfterEach, crashed } from "./shared.js";

const MINUTE = 60_000;

const cleanups = cleanupsAfterEach();

async function bus(): Promise<PrivateBus> {
  const privateBus = await startPrivateBus();
  cleanups.push(() => privateBus.close());
  return privateBus;
}

function notifier(env: NodeJS.ProcessEnv, enabled = true) {
  const clock = new FakeClock(Date.now());
  const log: string[] = [];
  const desktop = new DesktopNotifier({ clock, server: new SessionNotificationServer(env), enabled, rateLimitMs: 5 * MINUTE, log: (line) => log.push(line) });
  cleanups.push(() => desktop.stop());
  return { clock, log, desktop };
}

describe("DesktopNotifier on a private session bus", () => {
  it("calls Notify with app name selfheal, a summary, a body and the urgency; critical for a restart loop", async () => {
    const { address } = await bus();
    const server = await startNotificationServer(address);
    cleanups.push(() => server.close());
    const { clock, desktop } = notifier({ DBUS_SESSION_BUS_ADDRESS: address });
    desktop.handle(crashed("gedit", 4242, clock.now()));
    desktop.handle({ kind: "cooldown-started", timeMs: clock.now(), name: "gedit", restarts: 5, seconds: 120, untilMs: clock.now() + 120_000, message: "gedit restarted 5 times within 60 s: cooling down" });
    desktop.handle({ kind: "started", timeMs: clock.now(), name: "gedit", pid: 1, reason: "autostart", message: "started" });
    await desktop.idle();
    const [crash, loop] = await server.waitFor(2);
    expect(server.received).toHaveLength(2);
    expect(crash).toMatchObject({ appName: "selfheal", replacesId: 0, summary: "Process Crash: gedit", hints: { urgency: 1 }, expireTimeout: -1 });
    expect(crash!.body).toContain("gedit (PID 4242) was killed by SIGSEGV; restarting it");
    expect(loop).toMatchObject({ summary: "Restart Loop: gedit", hints: { urgency: 2 } });
    expect(loop!.body).toContain("cooling down");
  });

  it("rate-limits per process and kind and shows a summary of what was held back when the window ends", async () => {
    const { address } = await bus();
    const server = await startNotificationServer(address);
    cleanups.push(() => server.close());
    const { clock, desktop } = notifier({ DBUS_SESSION_BUS_ADDRESS: address });
    for (const pid of [1, 2, 3]) desktop.handle(crashed("gedit", pid, clock.now()));
    desktop.handle(crashed("vim", 9, clock.now()));
    await desktop.idle();
    expect(server.received.map((n) => n.summary)).toEqual(["Process Crash: gedit", "Process Crash: vim"]);
    clock.advance(5 * MINUTE);
    await desktop.idle();
    await server.waitFor(3);
    expect(server.received[2]!.summary).toBe("Process Crash: gedit");
    expect(server.received[2]!.body).toBe("2 more crashes of gedit were suppressed; the last: gedit (PID 3) was killed by SIGSEGV; restarting it");
  });

  it("shows nothing while turned off, and again once turned on", async () => {
    const { address } = await bus();
    const server = await startNotificationServer(address);
    cleanups.push(() => server.close());
    const { clock, desktop } = notifier({ DBUS_SESSION_BUS_ADDRESS: address }, false);
    desktop.handle(crashed("gedit", 1, clock.now()));
    await desktop.idle();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.received).toHaveLength(0);
    desktop.setEnabled(true);
    desktop.handle(crashed("gedit", 2, clock.now()));
    await server.waitFor(1);
  });

  it("with no notification server on the bus, logs once and carries on; shows again once one appears", async () => {
    const { address } = await bus();
    const { clock, log, desktop } = notifier({ DBUS_SESSION_BUS_ADDRESS: address });
    for (const name of ["a", "b", "c", "d"]) desktop.handle(crashed(name, 1, clock.now()));
    await desktop.idle();
    expect(desktop.stats.failed).toBe(4);
    expect(log).toEqual(["no notification server (org.freedesktop.Notifications) on the session bus: desktop notifications are skipped (mail and the event log still get every alert)"]);
    const server = await startNotificationServer(address);
    cleanups.push(() => server.close());
    desktop.handle(crashed("e", 1, clock.now()));
    const [shown] = await server.waitFor(1);
    expect(shown!.summary).toBe("Process Crash: e");
    expect(log).toHaveLength(1);
  });

  it("with no session bus at all, logs once and carries on", async () => {
    const { clock, log, desktop } = notifier({});
    for (const pid of [1, 2, 3]) desktop.handle(crashed(`p${pid}`, pid, clock.now()));
    await desktop.idle();
    expect(desktop.stats.failed).toBe(3);
    expect(log).toEqual([expect.stringMatching(/^no session bus .*: desktop notifications are skipped/)]);
  });
});
