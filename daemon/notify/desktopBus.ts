// The desktop's notification server (org.freedesktop.Notifications) reached
// over the session bus: one Notify call per notification, on a connection of
// its own that is opened when first needed and again after it closes.
import type { Urgency } from "./alerts.js";

import { connectBus, onBusClosed, sessionBusAddress, type MessageBus } from "../bus/connect.js";
import { Message, MESSAGE_TYPE, Variant } from "../bus/dbus.js";

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
  /** Notify's app_icon: a theme icon name or an absolute path (an app policy's app's icon); none: the server's default. */
  icon?: string;
  /** Notify's actions: key, label, key, label... ("default" with any label: a click on the notification). */
  actions?: string[];
}

/** What the notification server reports back about the notifications it shows. */
export interface NotificationListener {
  /** The user chose an action (ActionInvoked: the notification's id and the action's key). */
  actionInvoked(id: number, key: string): void;
  /** The notification is gone (NotificationClosed): expired, dismissed, or acted on. */
  closed(id: number): void;
}

/** Shows notifications; rejects when none could be shown. */
export interface NotificationServer {
  notify(notification: Notification): Promise<number>;
  /** Where ActionInvoked and NotificationClosed go from now on. */
  listen(listener: NotificationListener): void;
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
  private listener: NotificationListener | null = null;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async notify(notification: Notification): Promise<number> {
    const bus = await this.connection();
    const call = new Message({
      destination: NOTIFICATIONS_NAME,
      path: NOTIFICATIONS_PATH,
      interface: NOTIFICATIONS_INTERFACE,
      member: "Notify",
      signature: "susssasa{sv}i",
      body: [APP_NAME, 0, notification.icon ?? "", notification.summary, notification.body, notification.actions ?? [], { urgency: new Variant("y", URGENCY_BYTE[notification.urgency]) }, DEFAULT_EXPIRE_TIMEOUT],
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

  listen(listener: NotificationListener): void {
    this.listener = listener;
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

  // ActionInvoked and NotificationClosed, handed to the listener.
  private onSignal(msg: Message): void {
    if (msg.type !== MESSAGE_TYPE.signal || msg.interface !== NOTIFICATIONS_INTERFACE || msg.path !== NOTIFICATIONS_PATH) return;
    const id = Number(msg.body[0]);
    if (msg.member === "ActionInvoked" && typeof msg.body[1] === "string") this.listener?.actionInvoked(id, msg.body[1]);
    else if (msg.member === "NotificationClosed") this.listener?.closed(id);
  }

  // The bus connection, opened on first use; a failed or closed one is opened again next time.
  private connection(): Promise<MessageBus> {
    if (this.closed) return Promise.reject(new Error("closed"));
    if (this.bus !== null) return this.bus;
    const address = sessionBusAddress(this.env);
    if (address === null) return Promise.reject(new NoNotificationServerError("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"));
    const opening = connectBus(address).then(async (bus) => {
      bus.on("error", () => undefined);
      onBusClosed(bus, () => {
        if (this.bus === opening) this.bus = null;
      });
      bus.on("message", (msg: Message) => this.onSignal(msg));
      // Before the first Notify: an action on it must not be missed. The bus sends only the
      // signals of the name's owner at the time (the sender rule), so no other client can fake one.
      await bus.call(
        new Message({
          destination: "org.freedesktop.DBus",
          path: "/org/freedesktop/DBus",
          interface: "org.freedesktop.DBus",
          member: "AddMatch",
          signature: "s",
          body: [`type='signal',sender='${NOTIFICATIONS_NAME}',path='${NOTIFICATIONS_PATH}',interface='${NOTIFICATIONS_INTERFACE}'`],
        }),
      );
      return bus;
    });
    this.bus = opening;
    opening.catch(() => {
      if (this.bus === opening) this.bus = null;
    });
    return opening;
  }
}
