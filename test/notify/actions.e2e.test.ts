// Actions on desktop notifications, end to end: the real, built daemon on a private session bus,
// the stand-in notification server (notificationServer.ts) reporting the user's choice as a
// server does. A program of the test's own crashes until a file of its own is removed; held in
// cooldown, its "Restart Loop" notification's Restart now must end the cooldown and start it (a
// new PID), Stop watching must remove a policy, and a click on a notification must go out as
// ShowRequested(view, name). The time from the choice to its effect on the bus is printed.
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

import { connectClient, plain } from "../helpers/bus.js";
import { killQuietly, makeTestDir, startDaemon, type RunningDaemon } from "../helpers/daemon.js";
import { startNotificationServer } from "./notificationServer.js";
import { cleanupsAfterEach } from "./shared.js";

const cleanups = cleanupsAfterEach();

// A program that exits 3 at once while `<itself>.crash` exists, and otherwise sleeps.
function crasher(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nif [ -e "$0.crash" ]; then exit 3; fi\nexec sleep 300\n`);
  chmodSync(path, 0o755);
  writeFileSync(`${path}.crash`, "");
  return path;
}

function configFor(programs: Array<[string, string]>): string {
  return [
    "[settings]",
    "interval = 0.2",
    ...programs.flatMap(([name, path]) => ["", `[process.${name}]`, `command = [${JSON.stringify(path)}]`, "autostart = true", "cooldown = { max_restarts = 3, window = 60, pause = 600 }"]),
    "",
  ].join("\n");
}

// The PIDs the daemon started, to end them whatever happens.
function startedPids(daemon: RunningDaemon): number[] {
  return daemon.events().flatMap((event) => (event.kind === "started" ? [event.pid] : event.kind === "restarted" ? [event.newPid] : []));
}

describe("actions on the daemon's desktop notifications", () => {
  it("Restart now ends the cooldown and starts the program; Stop watching removes the policy; a click asks to show its view and row", async () => {
    const dir = makeTestDir("notify-actions");
    const tag = `${process.pid}${Date.now() % 100_000}`;
    const looping = `loop${tag}`;
    const dropped = `drop${tag}`;
    const clicked = `click${tag}`;
    const loopingPath = crasher(dir, looping);
    crasher(dir, dropped);
    crasher(dir, clicked);
    const daemon = await startDaemon(configFor([[looping, loopingPath], [dropped, join(dir, dropped)], [clicked, join(dir, clicked)]]), { dir });
    cleanups.push(() => daemon.cleanup());
    cleanups.push(() => killQuietly(startedPids(daemon)));
    const server = await startNotificationServer(daemon.env.DBUS_SESSION_BUS_ADDRESS!);
    cleanups.push(() => server.close());
    const client = await connectClient(daemon.bus);
    cleanups.push(() => client.close());

    const loopNotice = await server.waitForOne((n) => n.summary === `Restart Loop: ${looping}`, 30_000);
    const dropNotice = await server.waitForOne((n) => n.summary === `Restart Loop: ${dropped}`, 30_000);
    const clickNotice = await server.waitForOne((n) => n.summary === `Restart Loop: ${clicked}`, 30_000);
    expect(loopNotice.actions).toEqual(["default", "", "restart-now", "Restart now", "stop-watching", "Stop watching"]);

    // Restart now: the cooldown ends and the program runs again, with a PID of its own.
    rmSync(`${loopingPath}.crash`);
    client.signals.clear();
    const invokedAt = performance.now();
    server.invoke(loopNotice.id, "restart-now");
    const ended = await client.signals.waitFor("CooldownEnded", ([name]) => name === looping);
    // Started again from nothing (its old PID is gone): the "started" event, not ProcessRestarted.
    const startedEvent = (args: unknown[]): { kind: string; process: string; pid: number } => plain(args[0]) as { kind: string; process: string; pid: number };
    const restarted = await client.signals.waitFor("EventLogged", (args) => startedEvent(args).kind === "started" && startedEvent(args).process === looping);
    const [record] = (await client.call("GetProcess", "s", [looping])) as [Record<string, unknown>];
    const watched = plain(record) as { pid: number; state: string; cooldown_remaining: number };
    expect(watched.state).toBe("running");
    expect(watched.pid).toBe(startedEvent(restarted.args).pid);
    expect(watched.cooldown_remaining).toBe(0);

    // A click on a crash loop's notification: the daemon asks the desktop to show the program's row.
    // (Crash notifications of the first crashes may come before the stand-in server is up.)
    const clickedAt = performance.now();
    server.invoke(clickNotice.id, "default");
    const shown = await client.signals.waitFor("ShowRequested");
    expect(shown.args).toEqual(["cooldowns", clicked]);

    // Stop watching: the policy goes.
    server.invoke(dropNotice.id, "stop-watching");
    await daemon.waitForEvent("config-reloaded", (event) => event.removed.includes(dropped));
    const [policies] = (await client.call("GetPolicies")) as [Record<string, unknown>];
    expect(Object.keys(policies).sort()).toEqual([clicked, looping].sort());

    console.log(
      `notification action → effect on the bus: Restart now → CooldownEnded ${(ended.at - invokedAt).toFixed(1)} ms, → started ${(restarted.at - invokedAt).toFixed(1)} ms; ` +
        `click → ShowRequested ${(shown.at - clickedAt).toFixed(1)} ms`,
    );
  }, 90_000);
});
