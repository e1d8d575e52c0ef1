// Alerts as desktop notifications: the same kinds as the mails, rate-limited
// the same way (per process and kind, held-back alerts summarised when the
// window ends), shown one at a time in the background. No notification server,
// or no bus at all, is said once in the log; selfheal carries on regardless.
import type { Clock } from "../engine/clock.js";
import type { EngineEvent } from "../engine/events.js";
import type { PolicyApp } from "../config/policy.js";

import { ALERT_KINDS, alertKey, alertOf, type Alert } from "./alerts.js";
import { digestIntentOf, intentOf, notifyActions, respond, type NotificationIntent, type NotificationResponder } from "./actions.js";
import { NoNotificationServerError, type Notification, type NotificationServer } from "./desktopBus.js";
import { alertNotification, digestNotification } from "./messages.js";
import { AlertThrottle } from "./throttle.js";

/** At most one notification per process and kind in this many minutes. */
export const DESKTOP_RATE_LIMIT_MINUTES = 5;
/** Notifications waiting to be shown; beyond this the newest are dropped (the desktop is flooded anyway). */
export const MAX_PENDING_NOTIFICATIONS = 20;
/** Notifications whose actions are remembered until the server says they closed; the oldest go first. */
export const MAX_TRACKED_NOTIFICATIONS = 100;

export interface DesktopNotifierOptions {
  clock: Clock;
  server: NotificationServer;
  enabled: boolean;
  rateLimitMs?: number;
  log?: (line: string) => void;
  /** Carries out the actions chosen on notifications; without one, notifications carry no actions. */
  responder?: NotificationResponder;
  /** The desktop app a policy watches, by policy name: its alerts use the app's name and icon. */
  appOf?: (name: string) => PolicyApp | undefined;
}

export class DesktopNotifier {
  private enabled: boolean;
  private readonly throttle: AlertThrottle<Alert>;
  private readonly log: (line: string) => void;
  private pending = 0;
  private chain: Promise<void> = Promise.resolve();
  /** The failure last logged; the same one is not logged again until a notification gets through. */
  private lastFailure: string | null = null;
  /** What each notification shown (by the server's id) leads to, until it closes. */
  private readonly intents = new Map<number, NotificationIntent>();
  /** Counters, for tests and status. */
  readonly stats = { shown: 0, failed: 0, dropped: 0, actions: 0 };

  constructor(private readonly options: DesktopNotifierOptions) {
    this.enabled = options.enabled;
    this.log = options.log ?? ((line) => console.error(`selfheal: ${line}`));
    this.throttle = new AlertThrottle<Alert>(options.clock, options.rateLimitMs ?? DESKTOP_RATE_LIMIT_MINUTES * 60_000, (digest) => {
      const first = digest.items[0];
      if (first !== undefined) this.show({ ...digestNotification(digest, this.appOf(first.name)), urgency: ALERT_KINDS[first.kind].urgency }, digestIntentOf(digest));
    });
    options.server.listen({
      actionInvoked: (id, key) => this.onAction(id, key),
      closed: (id) => this.intents.delete(id),
    });
  }

  // [notifications] desktop changed.
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Alerts held back by the rate limit since the start. */
  get suppressed(): number {
    return this.throttle.suppressed;
  }

  // An engine event: show it if it is an alert and its (process, kind) is not rate-limited.
  handle(event: EngineEvent): void {
    if (!this.enabled) return;
    const alert = alertOf(event);
    if (alert === null) return;
    if (this.throttle.offer(alertKey(alert), alert)) this.show({ ...alertNotification(alert, this.appOf(alert.name)), urgency: ALERT_KINDS[alert.kind].urgency }, intentOf(alert));
  }

  private appOf(name: string): PolicyApp | undefined {
    return name === "" ? undefined : this.options.appOf?.(name);
  }

  // Resolves when every notification handed over so far was shown or given up (for tests).
  idle(): Promise<void> {
    return this.chain;
  }

  stop(): void {
    this.enabled = false;
    this.throttle.stop();
    this.options.server.close();
  }

  // Queue one notification behind the others; never throws, never waits.
  private show(text: Omit<Notification, "actions">, intent: NotificationIntent): void {
    const responder = this.options.responder;
    const notification: Notification = responder ? { ...text, actions: notifyActions(intent) } : text;
    if (!this.enabled) return;
    if (this.pending >= MAX_PENDING_NOTIFICATIONS) {
      this.stats.dropped++;
      return;
    }
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        const id = await this.options.server.notify(notification);
        this.stats.shown++;
        if (responder) this.track(id, intent);
        this.lastFailure = null;
      } catch (error) {
        this.stats.failed++;
        this.reportFailure(error);
      } finally {
        this.pending--;
      }
    });
  }

  private track(id: number, intent: NotificationIntent): void {
    this.intents.set(id, intent);
    if (this.intents.size > MAX_TRACKED_NOTIFICATIONS) this.intents.delete(this.intents.keys().next().value as number);
  }

  // The user chose an action on one of our notifications: carry it out; a failure is a log line.
  private onAction(id: number, key: string): void {
    const intent = this.intents.get(id);
    const responder = this.options.responder;
    if (intent === undefined || responder === undefined) return;
    this.stats.actions++;
    respond(responder, intent, key).then(
      (known) => {
        if (!known) this.log(`a notification's action "${key}" is not one selfheal offered; ignored`);
      },
      (error: unknown) => this.log(`the notification's action "${key}" for ${intent.name || intent.view} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  // Say once why notifications do not get through.
  private reportFailure(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    const kind = error instanceof NoNotificationServerError ? "none" : reason;
    if (this.lastFailure === kind) return;
    this.lastFailure = kind;
    if (error instanceof NoNotificationServerError) this.log(`${reason}: desktop notifications are skipped (mail and the event log still get every alert)`);
    else this.log(`a desktop notification was not shown: ${reason}`);
  }
}
