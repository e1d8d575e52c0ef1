// Alerts as desktop notifications: the same kinds as the mails, rate-limited
// the same way (per process and kind, held-back alerts summarised when the
// window ends), shown one at a time in the background. No notification server,
// or no bus at all, is said once in the log; selfheal carries on regardless.
import type { Clock } from "../engine/clock.js";
import type { EngineEvent } from "../engine/events.js";

import { ALERT_KINDS, alertKey, alertOf, type Alert } from "./alerts.js";
import { NoNotificationServerError, type Notification, type NotificationServer } from "./desktopBus.js";
import { alertNotification, digestNotification } from "./messages.js";
import { AlertThrottle } from "./throttle.js";

/** At most one notification per process and kind in this many minutes. */
export const DESKTOP_RATE_LIMIT_MINUTES = 5;
/** Notifications waiting to be shown; beyond this the newest are dropped (the desktop is flooded anyway). */
export const MAX_PENDING_NOTIFICATIONS = 20;

export interface DesktopNotifierOptions {
  clock: Clock;
  server: NotificationServer;
  enabled: boolean;
  rateLimitMs?: number;
  log?: (line: string) => void;
}

export class DesktopNotifier {
  private enabled: boolean;
  private readonly throttle: AlertThrottle<Alert>;
  private readonly log: (line: string) => void;
  private pending = 0;
  private chain: Promise<void> = Promise.resolve();
  /** The failure last logged; the same one is not logged again until a notification gets through. */
  private lastFailure: string | null = null;
  /** Counters, for tests and status. */
  readonly stats = { shown: 0, failed: 0, dropped: 0 };

  constructor(private readonly options: DesktopNotifierOptions) {
    this.enabled = options.enabled;
    this.log = options.log ?? ((line) => console.error(`selfheal: ${line}`));
    this.throttle = new AlertThrottle<Alert>(options.clock, options.rateLimitMs ?? DESKTOP_RATE_LIMIT_MINUTES * 60_000, (digest) => {
      const first = digest.items[0];
      if (first !== undefined) this.show({ ...digestNotification(digest), urgency: ALERT_KINDS[first.kind].urgency });
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
    if (this.throttle.offer(alertKey(alert), alert)) this.show({ ...alertNotification(alert), urgency: ALERT_KINDS[alert.kind].urgency });
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
  private show(notification: Notification): void {
    if (!this.enabled) return;
    if (this.pending >= MAX_PENDING_NOTIFICATIONS) {
      this.stats.dropped++;
      return;
    }
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        await this.options.server.notify(notification);
        this.stats.shown++;
        this.lastFailure = null;
      } catch (error) {
        this.stats.failed++;
        this.reportFailure(error);
      } finally {
        this.pending--;
      }
    });
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
