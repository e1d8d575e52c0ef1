// Actions on desktop notifications, over a real, private D-Bus session bus with the stand-in
// notification server (notificationServer.ts), which reports a user's choice as a server does
// (ActionInvoked, then NotificationClosed). What the actions do is recorded by a responder of the
// test's own here (the real daemon's answer is tested in actions.e2e.test.ts); what is tested is
// which buttons each alert carries, that a choice reaches the right call with the right program,
// and that a closed or foreign notification does nothing.
import { describe, expect, it } from "vitest";

import type { EngineEvent } from "../../daemon/engine/events.js";
import type { NotificationResponder, ShowView } from "../../daemon/notify/actions.js";
import { alertNotification } from "../../daemon/notify/messages.js";
import { alertOf } from "../../daemon/notify/alerts.js";
import { DesktopNotifier } from "../../daemon/notify/desktop.js";
import { SessionNotificationServer } from "../../daemon/notify/desktopBus.js";
import { FakeClock } from "../helpers/fakes.js";
import { startNotificationServer, startPrivateBus } from "./notificationServer.js";
import { cleanupsAfterEach, crashed, waitForCount } from "./shared.js";

const cleanups = cleanupsAfterEach();

// What the responder was asked to do, in order.
function recordingResponder(): NotificationResponder & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    restartNow: async (name) => void calls.push(`restartNow ${name}`),
    stopWatching: async (name) => void calls.push(`stopWatching ${name}`),
    cleanupZombies: async () => void calls.push("cleanupZombies"),
    show: (view: ShowView, name: string) => void calls.push(`show ${view} ${name}`),
  };
}

async function setup() {
  const bus = await startPrivateBus();
  cleanups.push(() => bus.close());
  const server = await startNotificationServer(bus.address);
  cleanups.push(() => server.close());
  const clock = new FakeClock(Date.now());
  const responder = recordingResponder();
  const log: string[] = [];
  const desktop = new DesktopNotifier({ clock, server: new SessionNotificationServer({ DBUS_SESSION_BUS_ADDRESS: bus.address }), enabled: true, responder, log: (line) => log.push(line) });
  cleanups.push(() => desktop.stop());
  return { server, clock, responder, desktop, log };
}

const cooldown = (name: string, now: number): EngineEvent => ({
  kind: "cooldown-started",
  timeMs: now,
  name,
  restarts: 5,
  seconds: 120,
  untilMs: now + 120_000,
  message: `${name} restarted 5 times within 60 s: no restarts for 120 s`,
});
const violation = (name: string, now: number): EngineEvent => ({
  kind: "violation",
  timeMs: now,
  name,
  pid: 7,
  resource: "memory",
  value: 300 * 1024 * 1024,
  limit: 200 * 1024 * 1024,
  action: "restart",
  message: `${name} (PID 7) used 300.0 MB of memory (limit 200.0 MB) for 2 scan(s): restarting it`,
});
const leak = (name: string, now: number): EngineEvent => ({
  kind: "anomaly",
  timeMs: now,
  name,
  pid: 8,
  type: "memory_leak",
  detail: "RSS grew 5.0 MB/s for 30 s",
  action: "restarted it",
  figures: {},
  message: `${name} (PID 8): memory leak: RSS grew 5.0 MB/s for 30 s; restarted it`,
});
const zombies = (now: number): EngineEvent => ({
  kind: "zombies-detected",
  timeMs: now,
  count: 6,
  newPids: [11, 12, 13, 14, 15, 16],
  message: "6 zombie process(es) left unreaped for 60 s or more (6 in all): ...",
});

// The actions array's keys (Notify sends key, label, key, label...).
const keysOf = (actions: string[]): string[] => actions.filter((_, index) => index % 2 === 0);
const labelsOf = (actions: string[]): string[] => actions.filter((_, index) => index % 2 === 1);

// Waits until the responder has heard `count` calls.
const heard = (responder: { calls: string[] }, count: number) =>
  waitForCount(responder.calls, count, 10_000, 5, () => `expected ${count} calls, got: ${responder.calls.join(" | ")}`);

describe("actions on desktop notifications", () => {
  it("offers Restart now and Stop watching on a crash loop, Show on a limit restart and an anomaly, Clean up on zombies, and a click on each", async () => {
    const { server, clock, desktop } = await setup();
    desktop.handle(cooldown("gedit", clock.now()));
    desktop.handle(violation("web", clock.now()));
    desktop.handle(leak("leaky", clock.now()));
    desktop.handle(zombies(clock.now()));
    desktop.handle(crashed("vim", 9, clock.now()));
    await desktop.idle();
    const [loop, limit, anomaly, zombie, crash] = await server.waitFor(5);
    expect(keysOf(loop!.actions)).toEqual(["default", "restart-now", "stop-watching"]);
    expect(labelsOf(loop!.actions).slice(1)).toEqual(["Restart now", "Stop watching"]);
    expect(keysOf(limit!.actions)).toEqual(["default", "show"]);
    expect(labelsOf(limit!.actions)[1]).toBe("Show");
    expect(keysOf(anomaly!.actions)).toEqual(["default", "show"]);
    expect(keysOf(zombie!.actions)).toEqual(["default", "clean-up"]);
    expect(labelsOf(zombie!.actions)[1]).toBe("Clean up");
    expect(keysOf(crash!.actions)).toEqual(["default"]);
  });

  it("carries out each choice for the program its notification is about, and a click shows its view and row", async () => {
    const { server, clock, desktop, responder } = await setup();
    desktop.handle(cooldown("gedit", clock.now()));
    desktop.handle(cooldown("vim", clock.now()));
    desktop.handle(violation("web", clock.now()));
    desktop.handle(leak("leaky", clock.now()));
    desktop.handle(zombies(clock.now()));
    await desktop.idle();
    const [gedit, vim, web, leaky, zombie] = await server.waitFor(5);
    server.invoke(gedit!.id, "restart-now");
    await heard(responder, 1);
    server.invoke(vim!.id, "stop-watching");
    await heard(responder, 2);
    server.invoke(web!.id, "show");
    await heard(responder, 3);
    server.invoke(leaky!.id, "default");
    await heard(responder, 4);
    server.invoke(zombie!.id, "clean-up");
    await heard(responder, 5);
    expect(responder.calls).toEqual(["restartNow gedit", "stopWatching vim", "show processes web", "show anomalies leaky", "cleanupZombies"]);
  });

  it("a click on a crash loop's notification shows the Cooldown view on its row; a zombie outbreak's shows the Zombies view", async () => {
    const { server, clock, desktop, responder } = await setup();
    desktop.handle(cooldown("gedit", clock.now()));
    desktop.handle(zombies(clock.now()));
    await desktop.idle();
    const [loop, zombie] = await server.waitFor(2);
    server.invoke(loop!.id, "default");
    server.invoke(zombie!.id, "default");
    await heard(responder, 2);
    expect(responder.calls).toEqual(["show cooldowns gedit", "show zombies "]);
  });

  it("ignores a notification once closed, one it did not show, and a key it did not offer", async () => {
    const { server, clock, desktop, responder, log } = await setup();
    desktop.handle(cooldown("gedit", clock.now()));
    desktop.handle(violation("web", clock.now()));
    desktop.handle(leak("leaky", clock.now()));
    await desktop.idle();
    const [loop, limit, anomaly] = await server.waitFor(3);
    server.dismiss(loop!.id);
    server.invoke(loop!.id, "restart-now");
    server.invoke(999, "default");
    server.invoke(limit!.id, "restart-now");
    // A last, valid choice: once it is heard, the ones before it were handled (signals arrive in order).
    server.invoke(anomaly!.id, "show");
    await heard(responder, 1);
    expect(responder.calls).toEqual(["show anomalies leaky"]);
    expect(log).toEqual(['a notification\'s action "restart-now" is not one selfheal offered; ignored']);
  });

  it("says each thing once: the crash's body is its message, without the action repeated", () => {
    const now = Date.now();
    const crash = alertOf(crashed("gedit", 4242, now))!;
    expect(alertNotification(crash).body).toBe("gedit (PID 4242) was killed by SIGSEGV; restarting it");
    const loop = alertOf(cooldown("gedit", now))!;
    expect(alertNotification(loop).body).toBe("gedit restarted 5 times within 60 s: no restarts for 120 s");
    // Counts in words (max_restarts = 1 makes a loop of one restart).
    expect(alertOf({ ...cooldown("gedit", now), restarts: 1 } as EngineEvent)!.action).toMatch(/, after 1 restart$/);
    const limit = alertOf(violation("web", now))!;
    expect(alertNotification(limit).body).toBe("web (PID 7) used 300.0 MB of memory (limit 200.0 MB) for 2 scan(s): restarting it");
    // A start failure's message does not say what happens next: the body does.
    const failed = alertOf({ kind: "start-failed", timeMs: now, name: "gone", error: "spawn gone ENOENT", message: "gone: spawn gone ENOENT" })!;
    expect(alertNotification(failed).body).toBe('gone: spawn gone ENOENT\nTries again later unless its restart policy is "never".');
  });
});
