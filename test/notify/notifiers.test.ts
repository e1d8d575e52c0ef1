// The two notifiers as the daemon runs them: subscribed to the engine's events,
// following a new configuration, and flushing queued mail when stopped.
import type { Config, EmailSettings } from "../../daemon/config/policy.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { Notification, NotificationServer } from "../../daemon/notify/desktopBus.js";

import { afterEach, describe, expect, it } from "vitest";

import { EventHub } from "../../daemon/engine/events.js";
import { Notifiers } from "../../daemon/notify/notifiers.js";
import { startSmtpServer } from "./smtpServer.js";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function emailTo(port: number): EmailSettings {
  return { enabled: true, smtpHost: "127.0.0.1", smtpPort: port, from: "selfheal@example.org", to: ["me@example.org"], username: null, password: null, passwordCommand: null, implicitTls: false, starttls: null, rateLimitMinutes: 0 };
}

function config(email: EmailSettings | null, desktop: boolean): Config {
  return { settings: { intervalSec: 1 }, policies: new Map(), email, notifications: { desktop } };
}

function crashed(name: string, pid: number): EngineEvent {
  return { kind: "crashed", timeMs: Date.now(), name, pid, exitCode: 139, signal: null, statusKnown: true, willRestart: false, message: `${name} (PID ${pid}) exited with code 139` };
}

// A notification server that records, in place of the session bus.
function recordingServer(): NotificationServer & { shown: Notification[] } {
  const shown: Notification[] = [];
  return { shown, notify: async (n) => (shown.push(n), shown.length), listen: () => undefined, close: () => undefined };
}

describe("Notifiers", () => {
  it("hands each engine event to mail and desktop, as the configuration says, and flushes queued mail on stop", async () => {
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.close());
    const hub = new EventHub();
    const desktop = recordingServer();
    const notifiers = new Notifiers(hub, config(null, false), { env: {}, desktopServer: desktop });
    cleanups.push(() => notifiers.stop());

    hub.emit(crashed("a", 1));
    await notifiers.desktop.idle();
    expect(desktop.shown).toEqual([]);

    notifiers.configure(config(emailTo(smtp.port), true));
    hub.emit(crashed("b", 2));
    await notifiers.desktop.idle();
    expect(desktop.shown.map((n) => [n.summary, n.urgency])).toEqual([["Process Crash: b", "normal"]]);
    hub.emit(crashed("c", 3));
    await notifiers.stop();
    // Stopping waited for both mails; nothing after the stop is sent.
    expect(smtp.mails.map((m) => m.subject)).toEqual(["[Self-Healing Monitor] Process Crash: b", "[Self-Healing Monitor] Process Crash: c"]);
    hub.emit(crashed("d", 4));
    await new Promise((r) => setTimeout(r, 100));
    expect(smtp.mails).toHaveLength(2);
    expect(desktop.shown).toHaveLength(2);
  });
});
