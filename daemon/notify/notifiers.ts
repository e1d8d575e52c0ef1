// The notification adapters together: the mailer and the desktop notifier,
// subscribed to the engine's events, following config reloads, stopped with
// the daemon.
import type { Clock } from "../engine/clock.js";
import type { Config } from "../config/policy.js";
import type { EventHub } from "../engine/events.js";
import type { NotificationResponder } from "./actions.js";

import { systemClock } from "../engine/clock.js";
import { DEFAULTS } from "../config/defaults.js";
import { DesktopNotifier } from "./desktop.js";
import { SessionNotificationServer, type NotificationServer } from "./desktopBus.js";
import { EmailNotifier, type EmailNotifierOptions } from "./email.js";

/** How long a stopping daemon waits for the mails still in its outbox (not when the server is failing). */
export const STOP_FLUSH_MS = 3_000;

export interface NotifiersOptions {
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Default: org.freedesktop.Notifications on the session bus of env. */
  desktopServer?: NotificationServer;
  email?: Partial<EmailNotifierOptions>;
  /** Carries out the actions chosen on desktop notifications (the daemon). */
  responder?: NotificationResponder;
}

export class Notifiers {
  readonly email: EmailNotifier;
  readonly desktop: DesktopNotifier;
  private readonly unsubscribe: () => void;
  /** The configuration in force: which policies watch a desktop app (for the notifications' names and icons). */
  private config: Config;

  constructor(events: EventHub, config: Config, options: NotifiersOptions) {
    this.config = config;
    const clock = options.clock ?? systemClock;
    this.email = new EmailNotifier(config.email, { clock, ...options.email });
    this.desktop = new DesktopNotifier({
      clock,
      server: options.desktopServer ?? new SessionNotificationServer(options.env),
      enabled: desktopEnabled(config),
      appOf: (name) => this.config.policies.get(name)?.app,
      ...(options.responder ? { responder: options.responder } : {}),
    });
    this.unsubscribe = events.subscribe((event) => {
      this.email.handle(event);
      this.desktop.handle(event);
    });
  }

  // The configuration in force changed: new [email] settings, desktop on or off.
  configure(config: Config): void {
    this.config = config;
    this.email.configure(config.email);
    this.desktop.setEnabled(desktopEnabled(config));
  }

  // Stop listening; give mails already queued (a crash just before SIGTERM) a moment to go out.
  async stop(): Promise<void> {
    this.unsubscribe();
    if (!this.email.outbox.retrying) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_FLUSH_MS)));
      await Promise.race([this.email.outbox.idle(), timeout]);
      clearTimeout(timer);
    }
    this.email.stop();
    this.desktop.stop();
  }
}

function desktopEnabled(config: Config): boolean {
  return config.notifications?.desktop ?? DEFAULTS.notifications.desktop;
}
