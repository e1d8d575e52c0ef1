// Notifications about an app policy use the app's name and icon: the summary names the app as the
// desktop does, and Notify's app_icon is its icon (over a real private bus, to the stand-in
// notification server of notificationServer.ts); the notifiers follow the policies in force.
import type { Config, Policy } from "../../daemon/config/policy.js";
import type { Notification, NotificationServer } from "../../daemon/notify/desktopBus.js";

import { describe, expect, it } from "vitest";

import { EventHub } from "../../daemon/engine/events.js";
import { DesktopNotifier } from "../../daemon/notify/desktop.js";
import { SessionNotificationServer } from "../../daemon/notify/desktopBus.js";
import { Notifiers } from "../../daemon/notify/notifiers.js";
import { validatePolicyObject } from "../../daemon/config/load.js";
import { FakeClock } from "../helpers/fakes.js";
import { startNotificationServer, startPrivateBus } from "./notificationServer.js";
import { cleanupsAfterEach, crashed } from "./shared.js";

const MINUTE = 60_000;
const cleanups = cleanupsAfterEach();
const EDITOR = { id: "org.gnome.TextEditor.desktop", name: "Text Editor", icon: "org.gnome.TextEditor" };

describe("notifications of an app policy", () => {
  it("name the app and carry its icon as Notify's app_icon; other policies' keep their name and no icon", async () => {
    const bus = await startPrivateBus();
    cleanups.push(() => bus.close());
    const server = await startNotificationServer(bus.address);
    cleanups.push(() => server.close());
    const clock = new FakeClock(Date.now());
    const desktop = new DesktopNotifier({
      clock,
      server: new SessionNotificationServer({ DBUS_SESSION_BUS_ADDRESS: bus.address }),
      enabled: true,
      rateLimitMs: 5 * MINUTE,
      appOf: (name) => (name === "editor" ? EDITOR : undefined),
    });
    cleanups.push(() => desktop.stop());
    desktop.handle(crashed("editor", 4242, clock.now()));
    desktop.handle(crashed("editor", 4243, clock.now()));
    desktop.handle(crashed("vim", 9, clock.now()));
    await desktop.idle();
    const [app, plain] = await server.waitFor(2);
    expect(app).toMatchObject({ appName: "selfheal", icon: "org.gnome.TextEditor", summary: "Process Crash: Text Editor" });
    // The body still names the policy, so the row and `selfheal status NAME` can be found.
    expect(app!.body).toContain("editor (PID 4242)");
    expect(plain).toMatchObject({ icon: "", summary: "Process Crash: vim" });
    // The digest of what the rate limit held back too.
    clock.advance(5 * MINUTE);
    await desktop.idle();
    const digest = (await server.waitFor(3))[2]!;
    expect(digest).toMatchObject({ icon: "org.gnome.TextEditor", summary: "Process Crash: Text Editor" });
  });

  it("follow the policies in force: an app policy added by a reload is named as its app from then on", async () => {
    const shown: Notification[] = [];
    const recording: NotificationServer = { notify: async (n) => (shown.push(n), shown.length), listen: () => undefined, close: () => undefined };
    const configOf = (policies: Policy[]): Config =>
      ({ settings: { intervalSec: 1 }, policies: new Map(policies.map((policy) => [policy.name, policy])), email: null, notifications: { desktop: true } }) as Config;
    const hub = new EventHub();
    const notifiers = new Notifiers(hub, configOf([validatePolicyObject("editor", { command: ["gnome-text-editor"] }, "test")]), { env: {}, desktopServer: recording });
    cleanups.push(() => notifiers.stop());
    hub.emit(crashed("editor", 1, Date.now()));
    await notifiers.desktop.idle();
    notifiers.configure(configOf([{ ...validatePolicyObject("editor", { command: ["gnome-text-editor"] }, "test"), app: EDITOR }]));
    hub.emit({ kind: "cooldown-started", timeMs: Date.now(), name: "editor", restarts: 5, seconds: 120, untilMs: Date.now() + 120_000, message: "editor restarted 5 times within 60 s: cooling down" });
    await notifiers.desktop.idle();
    expect(shown.map((n) => [n.summary, n.icon])).toEqual([
      ["Process Crash: editor", undefined],
      ["Restart Loop: Text Editor", "org.gnome.TextEditor"],
    ]);
  });
});
