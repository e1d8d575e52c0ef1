// The desktop's notification server (org.freedesktop.Notifications) reached
// over the session bus: one Notify call per notification, on a connection of
// its own that is opened when first needed and again after it closes.
import type { Urgency } from "./alerts.js";

import { connectBus, onBusClosed, sessionBusAddress, type MessageBus } from "../bus/connect.js";
import { Message, Variant } from "../bus/dbus.js";

export const NOTIFICATIONS_NAME = "org.freedesktop.Notifications";
export const NOTIFICATIONS_PATH = "/org/freedesktop/Notifications";
export const NOTIFICATIONS_INTERFACE = "org.freedesktop.Notifications";
/** The app_name of every notification selfheal shows. */
export const APP_NAME = "selfheal";
/** How long to wait for the notification server's answer. */
export const NOTIFY_TIMEOUT_MS = 5_000;
/** -1: the server decides how long a notification stays. */
const DEFAULT_EXPIRE_TIMEOUT = -1;

/** The byte values of the "urgency" hint. */
const URGENCY_BYTE: Record<Urgency, number> = { low: 0, normal: 1, critical: 2 };

export interface Notification {
  summary: string;
  body: string;
  urgency: Urgency;
}

/** Shows notifications; rejects when none could be shown. */
export interface NotificationServer {
  notify(notification: Notification): Promise<number>;
  close(): void;
}

/** A failure worth telling apart: nobody owns org.freedesktop.Notifications, or there is no bus. */
export class NoNotificationServerError extends Error {
  override readonly name = "NoNotificationServerError";
}

const NO_OWNER_ERRORS = new Set(["org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"]);

// Reject after ms unless the promise settles first.
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** org.freedesktop.Notifications on the session bus named by env. */
export class SessionNotificationServer implements NotificationServer {
  private bus: Promise<MessageBus> | null = null;
  private closed = false;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async notify(notification: Notification): Promise<number> {
    const bus = await this.connection();
    const call = new Message({
      destination: NOTIFICATIONS_NAME,
      path: NOTIFICATIONS_PATH,
      interface: NOTIFICATIONS_INTERFACE,
      member: "Notify",
      signature: "susssasa{sv}i",
      body: [APP_NAME, 0, "", notification.summary, notification.body, [], { urgency: new Variant("y", URGENCY_BYTE[notification.urgency]) }, DEFAULT_EXPIRE_TIMEOUT],
    });
    try {
      const reply = await withTimeout(bus.call(call), NOTIFY_TIMEOUT_MS, "Notify");
      return Number(reply?.body[0] ?? 0);
    } catch (error) {
      const name = (error as { type?: unknown }).type;
      if (typeof name === "string" && NO_OWNER_ERRORS.has(name)) throw new NoNotificationServerError(`no notification server (${NOTIFICATIONS_NAME}) on the session bus`);
      throw error;
    }
  }

  close(): void {
    this.closed = true;
    const bus = this.bus;
    this.bus = null;
    void bus?.then(
      (opened) => opened.disconnect(),
      () => undefined,
    );
  }

  // The bus connection, opened on first use; a failed or closed one is opened again next time.
  private connection(): Promise<MessageBus> {
    if (this.closed) return Promise.reject(new Error("closed"));
    if (this.bus !== null) return this.bus;
    const address = sessionBusAddress(this.env);
    if (address === null) return Promise.reject(new NoNotificationServerError("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"));
    const opening = connectBus(address).then((bus) => {
      bus.on("error", () => undefined);
      onBusClosed(bus, () => {
        if (this.bus === opening) this.bus = null;
      });
      return bus;
    });
    this.bus = opening;
    opening.catch(() => {
      if (this.bus === opening) this.bus = null;
    });
    return opening;
  }
}
