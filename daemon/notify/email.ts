// Alerts by email through nodemailer: rate-limited per (process, kind), held
// back alerts summarised in a digest, and every mail handed to an outbox that
// sends on its own time. handle() never waits and never throws.
import type { Clock } from "../engine/clock.js";
import type { EngineEvent } from "../engine/events.js";
import type { EmailSettings } from "../config/policy.js";

import { hostname } from "node:os";

import type { Transporter } from "nodemailer";

import { alertKey, alertOf, type Alert } from "./alerts.js";
import { alertMail, digestMail } from "./messages.js";
import { MailQueue, type OutgoingMail, type SendMail } from "./mailQueue.js";
import { readPasswordFromCommand, type PasswordCommandOptions } from "./passwordCommand.js";
import { AlertThrottle } from "./throttle.js";

/** How long to wait for the TCP (or TLS) connection to the SMTP server. */
export const SMTP_CONNECTION_TIMEOUT_MS = 10_000;
/** How long to wait for the server's greeting once connected. */
export const SMTP_GREETING_TIMEOUT_MS = 10_000;
/** How long the connection may stay silent during a conversation. */
export const SMTP_SOCKET_TIMEOUT_MS = 30_000;

const MS_PER_MINUTE = 60_000;

/** Sends mail with one set of settings until closed. */
export interface MailTransport {
  send: SendMail;
  close(): void;
}

export type TransportFactory = (settings: EmailSettings) => MailTransport;

/** The SMTP timeouts, milliseconds. */
export interface SmtpTimeouts {
  connectionMs: number;
  greetingMs: number;
  socketMs: number;
}

export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectionMs: SMTP_CONNECTION_TIMEOUT_MS,
  greetingMs: SMTP_GREETING_TIMEOUT_MS,
  socketMs: SMTP_SOCKET_TIMEOUT_MS,
};

// The password to log in with: the plain one, or what password_command prints (asked when a mail is sent, so
// a keyring unlocked after the daemon started still serves).
function loginPassword(settings: EmailSettings, passwordCommand: PasswordCommandOptions): Promise<string> {
  if (settings.passwordCommand !== null) return readPasswordFromCommand(settings.passwordCommand, passwordCommand);
  return Promise.resolve(settings.password ?? "");
}

// The nodemailer transport for the settings: TLS mode, login, and timeouts so a dead server cannot hang a send.
// One pooled connection, so a burst (a digest after an outage) does not reconnect for every mail.
// nodemailer itself is loaded with the first mail: a desktop that mails nothing never pays its memory (about 12 MB).
export function smtpTransport(settings: EmailSettings, timeouts: SmtpTimeouts = DEFAULT_SMTP_TIMEOUTS, passwordCommand: PasswordCommandOptions = {}): MailTransport {
  let opened: Promise<Transporter> | null = null;
  const open = (): Promise<Transporter> =>
    (opened ??= Promise.all([import("nodemailer"), settings.username === null ? null : loginPassword(settings, passwordCommand)]).then(
      ([{ default: nodemailer }, password]) =>
        nodemailer.createTransport({
          pool: true,
          maxConnections: 1,
          host: settings.smtpHost,
          port: settings.smtpPort,
          secure: settings.implicitTls,
          requireTLS: settings.starttls === true,
          ignoreTLS: settings.starttls === false,
          auth: settings.username === null ? undefined : { user: settings.username, pass: password ?? "" },
          connectionTimeout: timeouts.connectionMs,
          greetingTimeout: timeouts.greetingMs,
          socketTimeout: timeouts.socketMs,
        }),
    ));
  return {
    async send(mail: OutgoingMail) {
      const attempt = open();
      try {
        const transport = await attempt;
        await transport.sendMail({ from: settings.from, to: settings.to, subject: mail.subject, text: mail.text });
      } catch (error) {
        // The password is asked again for the next try: the command may work then (keyring unlocked), or
        // the keyring's password may have changed since (a refused login).
        if (settings.passwordCommand !== null && opened === attempt) {
          opened = null;
          void attempt.then(
            (transport) => transport.close(),
            () => undefined,
          );
        }
        throw error;
      }
    },
    // A transport that never opened (nodemailer failed to load) has nothing to close; its failure was told by send.
    close: () => void opened?.then(
      (transport) => transport.close(),
      () => undefined,
    ),
  };
}

export interface EmailNotifierOptions {
  clock: Clock;
  /** Default: nodemailer over SMTP. */
  transport?: TransportFactory;
  /** For smtpTransport (default DEFAULT_SMTP_TIMEOUTS). */
  smtpTimeouts?: SmtpTimeouts;
  /** For password_command (default: PASSWORD_COMMAND_TIMEOUT_MS). */
  passwordCommand?: PasswordCommandOptions;
  /** The outbox's retry delays (default: the MailQueue's). */
  retryDelaysMs?: readonly number[];
  maxQueuedMails?: number;
  host?: string;
  log?: (line: string) => void;
}

export class EmailNotifier {
  private settings: EmailSettings | null = null;
  private transport: MailTransport | null = null;
  readonly outbox: MailQueue;
  private readonly throttle: AlertThrottle<Alert>;
  private readonly host: string;

  constructor(settings: EmailSettings | null, private readonly options: EmailNotifierOptions) {
    this.host = options.host ?? hostname();
    this.outbox = new MailQueue({
      clock: options.clock,
      send: (mail) => (this.transport === null ? Promise.reject(new Error("email is turned off")) : this.transport.send(mail)),
      retryDelaysMs: options.retryDelaysMs,
      maxSize: options.maxQueuedMails,
      log: options.log,
    });
    this.throttle = new AlertThrottle<Alert>(options.clock, 0, (digest) => this.queue(digestMail(digest, this.host)));
    this.configure(settings);
  }

  // New [email] settings (a config reload): the next mail uses them; null or enabled = false sends nothing.
  configure(settings: EmailSettings | null): void {
    const active = settings !== null && settings.enabled ? settings : null;
    if (JSON.stringify(active) !== JSON.stringify(this.settings)) {
      this.settings = active;
      this.transport?.close();
      this.transport = active === null ? null : (this.options.transport ?? ((email) => smtpTransport(email, this.options.smtpTimeouts, this.options.passwordCommand)))(active);
    }
    this.throttle.setWindow(active === null ? 0 : active.rateLimitMinutes * MS_PER_MINUTE);
  }

  /** Alerts held back by the rate limit since the start. */
  get suppressed(): number {
    return this.throttle.suppressed;
  }

  // An engine event: mail it if it is an alert and its (process, kind) is not rate-limited.
  handle(event: EngineEvent): void {
    if (this.settings === null) return;
    const alert = alertOf(event);
    if (alert === null) return;
    if (this.throttle.offer(alertKey(alert), alert)) this.queue(alertMail(alert, this.host));
  }

  stop(): void {
    this.throttle.stop();
    this.outbox.stop();
    this.transport?.close();
    this.transport = null;
  }

  private queue(mail: OutgoingMail): void {
    if (this.settings !== null) this.outbox.push(mail);
  }
}
