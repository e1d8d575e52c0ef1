// A private dbus-daemon and a tiny org.freedesktop.Notifications server on it.
// The server is a stand-in for the desktop's notification daemon (GNOME Shell's,
// mako, dunst...), which cannot run headless here: it answers Notify like one
// and records every call, so the tests see exactly what selfheal sent.
import type { MessageBus } from "../../daemon/bus/connect.js";

import { spawn, type ChildProcess } from "node:child_process";

import { connectBus } from "../../daemon/bus/connect.js";
import { Message } from "../../daemon/bus/dbus.js";
import { NOTIFICATIONS_INTERFACE, NOTIFICATIONS_NAME, NOTIFICATIONS_PATH } from "../../daemon/notify/desktopBus.js";

export interface ReceivedNotification {
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
  close(): void;
}

// Start a private session dbus-daemon; resolves with its address.
export async function startPrivateBus(): Promise<PrivateBus> {
  const daemon: ChildProcess = spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1"], { stdio: ["ignore", "pipe", "inherit"] });
  const address = await new Promise<string>((resolve, reject) => {
    let text = "";
    daemon.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.split("\n")[0]!.trim());
    });
    daemon.once("error", reject);
    daemon.once("exit", (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
  });
  return { address, close: () => void daemon.kill("SIGTERM") };
}

export interface FakeNotificationServer {
  received: ReceivedNotification[];
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
  /** Resolves with the first notification that matches. */
  waitForOne(match: (notification: ReceivedNotification) => boolean, timeoutMs?: number): Promise<ReceivedNotification>;
  close(): void;
}

// Own org.freedesktop.Notifications on the bus and answer Notify with a fresh id.
export async function startNotificationServer(address: string): Promise<FakeNotificationServer> {
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
      received.push({ appName, replacesId, icon, summary, body, actions, hints: unwrapped, expireTimeout });
      bus.send(Message.newMethodReturn(msg, "u", [nextId++]));
      return true;
    }
    if (msg.member === "GetCapabilities") {
      bus.send(Message.newMethodReturn(msg, "as", [["body"]]));
      return true;
    }
    return false;
  });
  await bus.requestName(NOTIFICATIONS_NAME, 0);
  return {
    received,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}: ${received.map((n) => n.summary).join(" | ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return received;
    },
    async waitForOne(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no matching notification; got: ${received.map((n) => n.summary).join(" | ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => bus.disconnect(),
  };
}
