// A private dbus-daemon and a tiny org.freedesktop.Notifications server on it.
// The server is a stand-in for the desktop's notification daemon (GNOME Shell's,
// mako, dunst...), which cannot run headless here: it answers Notify like one
// and records every call, so the tests see exactly what selfheal sent.
import type { MessageBus } from "../../daemon/bus/connect.js";

import { connectBus } from "../../daemon/bus/connect.js";
import { Message } from "../../daemon/bus/dbus.js";
import { NOTIFICATIONS_INTERFACE, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH } from "../../daemon/notify/desktopBus.js";
import { startPrivateBus as startSessionBus } from "../helpers/bus.js";
import { waitForCount, waitForMatch } from "./shared.js";

export interface ReceivedNotification {
  /** The id the server answered Notify with. */
  id: number;
  appName: string;
  replacesId: number;
  icon: string;
  summary: string;
  body: string;
  actions: string[];
  /** The hints, variants unwrapped. */
  hints: Record<string, unknown>;
  expireTimeout: number;
}

export interface PrivateBus {
  address: string;
  close(): Promise<void>;
}

// Start a private session dbus-daemon (the bus tests' own); resolves with its address.
export async function startPrivateBus(): Promise<PrivateBus> {
  const bus = await startSessionBus();
  return { address: bus.address, close: () => bus.stop() };
}

export interface FakeNotificationServer {
  received: ReceivedNotification[];
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
  /** Resolves with the first notification that matches. */
  waitForOne(match: (notification: ReceivedNotification) => boolean, timeoutMs?: number): Promise<ReceivedNotification>;
  /** Reports a user's choice as a notification server does: ActionInvoked(id, key), then NotificationClosed(id, 2). */
  invoke(id: number, key: string): void;
  /** Reports that a notification closed (reason 2: dismissed by the user). */
  dismiss(id: number): void;
  close(): void;
}

// Own org.freedesktop.Notifications on the bus and answer Notify with a fresh id.
// `replace`: take the name over from the server that holds it (one that allows it, as the shell's does).
export async function startNotificationServer(address: string, replace = false): Promise<FakeNotificationServer & { uniqueName: string; primary: boolean }> {
  const bus: MessageBus = await connectBus(address);
  const received: ReceivedNotification[] = [];
  let nextId = 1;
  bus.addMethodHandler((msg: Message) => {
    if (msg.interface !== NOTIFICATIONS_INTERFACE || msg.path !== NOTIFICATIONS_PATH) return false;
    if (msg.member === "Notify") {
      const [appName, replacesId, icon, summary, body, actions, hints, expireTimeout] = msg.body as [
        string,
        number,
        string,
        string,
        string,
        string[],
        Record<string, { value: unknown }>,
        number,
      ];
      const unwrapped = Object.fromEntries(Object.entries(hints).map(([key, variant]) => [key, variant.value]));
      const id = nextId++;
      received.push({ id, appName, replacesId, icon, summary, body, actions, hints: unwrapped, expireTimeout });
      bus.send(Message.newMethodReturn(msg, "u", [id]));
      return true;
    }
    if (msg.member === "GetCapabilities") {
      bus.send(Message.newMethodReturn(msg, "as", [["body", "actions"]]));
      return true;
    }
    return false;
  });
  const REPLACE_EXISTING = 2;
  const PRIMARY_OWNER = 1;
  const reply = await bus.requestName(NOTIFICATIONS_NAME, replace ? REPLACE_EXISTING : 0);
  return {
    // dbus-next keeps the unique name on the bus object; its typings leave it out.
    uniqueName: (bus as unknown as { name?: string }).name ?? "",
    primary: reply === PRIMARY_OWNER,
    received,
    waitFor: (count, timeoutMs = 10_000) =>
      waitForCount(received, count, timeoutMs, 10, () => `expected ${count} notifications, got ${received.length}: ${received.map((n) => n.summary).join(" | ")}`),
    waitForOne: (match, timeoutMs = 10_000) => waitForMatch(received, match, timeoutMs, 10, () => `no matching notification; got: ${received.map((n) => n.summary).join(" | ")}`),
    invoke: (id, key) => {
      bus.send(Message.newSignal(NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE, "ActionInvoked", "us", [id, key]));
      bus.send(Message.newSignal(NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE, "NotificationClosed", "uu", [id, 2]));
    },
    dismiss: (id) => bus.send(Message.newSignal(NOTIFICATIONS_PATH, NOTIFICATIONS_INTERFACE, "NotificationClosed", "uu", [id, 2])),
    close: () => bus.disconnect(),
  };
}
