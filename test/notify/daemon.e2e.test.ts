// End to end: the real, built daemon (dist/selfheal.js) with an [email] section
// pointing at a real SMTP server started here, watching a copy of /bin/sleep
// under a unique name. Killing that program (ours) with SIGSEGV must bring a
// "[Self-Healing Monitor] Process Crash: <name>" mail, and a desktop
// notification through the stand-in notification server on the daemon's
// private bus. A config edit moves mail to another server while it runs.
import { describe, expect, it } from "vitest";

import { killQuietly, makeTestDir, startDaemon, uniqueSleep, type RunningDaemon } from "../helpers/daemon.js";
import { startNotificationServer } from "./notificationServer.js";
import { startSmtpServer } from "./smtpServer.js";
import { cleanupsAfterEach } from "./shared.js";

const cleanups = cleanupsAfterEach();

function configFor(program: string, name: string, smtpPort: number, rateLimitMinutes: number): string {
  return `[settings]
interval = 0.2

[process.${name}]
command = [${JSON.stringify(program)}, "300"]
autostart = true

[email]
smtp_host = "127.0.0.1"
smtp_port = ${smtpPort}
from = "selfheal@example.org"
to = ["me@example.org"]
rate_limit_minutes = ${rateLimitMinutes}
`;
}

// The pids the daemon started for this test (to end them whatever happens).
function startedPids(daemon: RunningDaemon): number[] {
  return daemon.events().flatMap((event) => (event.kind === "started" ? [event.pid] : event.kind === "restarted" ? [event.newPid] : []));
}

describe("the daemon's notifications", () => {
  it("mails a crash of a watched program, notifies the desktop, and follows a new [email] section", async () => {
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const dir = makeTestDir("notify-e2e");
    const name = `shmail${process.pid}${Date.now() % 100_000}`;
    const program = uniqueSleep(dir, name);
    const daemon = await startDaemon(configFor(program, name, smtp.port, 15), { dir });
    cleanups.push(() => daemon.cleanup());
    cleanups.push(() => killQuietly(startedPids(daemon)));
    const desktop = await startNotificationServer(daemon.env.DBUS_SESSION_BUS_ADDRESS!);
    cleanups.push(() => desktop.close());

    const started = await daemon.waitForEvent("started", (event) => event.name === name);
    process.kill(started.pid, "SIGSEGV");
    // Zombies elsewhere on the machine may be mailed too: look for ours.
    const isCrashOfOurs = (subject: string): boolean => subject === `[Self-Healing Monitor] Process Crash: ${name}`;
    const mail = await smtp.waitForMail((m) => isCrashOfOurs(m.subject), 20_000);
    expect(mail.to).toEqual(["me@example.org"]);
    expect(mail.text).toMatch(new RegExp(`PID: +${started.pid}\\b`));
    expect(mail.text).toMatch(/How it ended: +killed by SIGSEGV/);
    const notification = await desktop.waitForOne((n) => n.summary.startsWith("Process Crash"));
    expect(notification).toMatchObject({ appName: "selfheal", summary: `Process Crash: ${name}` });

    // Mail goes to another server from the next alert on, without a restart of the daemon.
    const second = await startSmtpServer();
    cleanups.push(() => second.close());
    daemon.writeConfig(configFor(program, name, second.port, 0));
    await daemon.waitForEvent("config-reloaded");
    const restarted = await daemon.waitForEvent("restarted", (event) => event.name === name);
    process.kill(restarted.newPid, "SIGSEGV");
    const moved = await second.waitForMail((m) => isCrashOfOurs(m.subject), 20_000);
    expect(moved.text).toMatch(new RegExp(`PID: +${restarted.newPid}\\b`));
    expect(smtp.mails.filter((m) => isCrashOfOurs(m.subject))).toHaveLength(1);
  });
});
