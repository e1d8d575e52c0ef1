// The outbox between the engine and the SMTP server. push() only appends and
// returns; one asynchronous loop sends the mails in order. The engine never
// waits for, or hears about, the network.
//
// Retry policy: a mail that fails for a passing reason (connection refused or
// reset, timeout, a 4xx reply) is tried again after each delay of `retryDelaysMs`
// in turn (by default 5 s, 30 s, 2 min, 5 min, 10 min: about 17 minutes in all)
// and then dropped with a logged error. Mails queued meanwhile wait behind it,
// so they go out in order once the server is back. A permanent failure (a 5xx
// reply, refused login, bad address) drops the mail at once: trying again would
// fail the same way. The outbox holds at most `maxSize` mails; when it is full
// the oldest waiting mail is dropped (and counted in the log).
import type { Clock, Timer } from "../engine/clock.js";
import { plural } from "../words.js";

export const DEFAULT_MAX_QUEUED_MAILS = 100;
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [5_000, 30_000, 120_000, 300_000, 600_000];

export interface OutgoingMail {
  subject: string;
  text: string;
}

/** Sends one mail; rejects when it was not accepted. */
export type SendMail = (mail: OutgoingMail) => Promise<void>;

export interface MailQueueOptions {
  clock: Clock;
  send: SendMail;
  maxSize?: number;
  retryDelaysMs?: readonly number[];
  log?: (line: string) => void;
}

// Whether a send error will fail the same way again: SMTP 5xx, bad login, bad addresses.
export function isPermanentFailure(error: unknown): boolean {
  const failure = error as { responseCode?: unknown; code?: unknown };
  if (typeof failure.responseCode === "number" && failure.responseCode >= 500) return true;
  return failure.code === "EAUTH" || failure.code === "EENVELOPE" || failure.code === "EMESSAGE";
}

// The error of a failed send, in one line.
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class MailQueue {
  private readonly waiting: OutgoingMail[] = [];
  private readonly maxSize: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly log: (line: string) => void;
  private sending = false;
  private retryTimer: Timer | null = null;
  private stopped = false;
  private failing = false;
  private droppedInOverflow = 0;
  private idleWaiters: Array<() => void> = [];
  /** Counters, for tests and status. */
  readonly stats = { sent: 0, dropped: 0, failures: 0 };

  constructor(private readonly options: MailQueueOptions) {
    this.maxSize = options.maxSize ?? DEFAULT_MAX_QUEUED_MAILS;
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.log = options.log ?? ((line) => console.error(`selfheal: ${line}`));
  }

  /** Mails waiting, the one being sent included. */
  get size(): number {
    return this.waiting.length;
  }

  // Queue a mail and return at once; the oldest waiting mail makes room when full.
  push(mail: OutgoingMail): void {
    if (this.stopped) return;
    if (this.waiting.length >= this.maxSize) {
      // The head may be in flight or awaiting its retry: drop the oldest one behind it, or this one.
      const victim = this.sending || this.retryTimer !== null ? 1 : 0;
      const dropped = victim < this.waiting.length ? this.waiting.splice(victim, 1)[0]! : mail;
      this.stats.dropped++;
      // Logged once per overflow; the count follows when the outbox has room again.
      if (this.droppedInOverflow++ === 0) this.log(`mail outbox full (${this.maxSize} mails): dropping the oldest waiting mails, first "${dropped.subject}"`);
      if (dropped === mail) return;
    }
    this.waiting.push(mail);
    if (!this.sending && this.retryTimer === null) void this.drain(0);
  }

  /** True while the head mail waits for its next try (the server was unreachable). */
  get retrying(): boolean {
    return this.retryTimer !== null;
  }

  // Resolves once nothing is waiting and nothing is being sent (for tests and shutdown).
  idle(): Promise<void> {
    if (this.waiting.length === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // Stop sending: waiting mails are dropped, a retry is cancelled.
  stop(): void {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.waiting.length = 0;
    this.settle();
  }

  // Send the waiting mails in order; `attempt` counts failed tries of the head mail.
  private async drain(attempt: number): Promise<void> {
    this.retryTimer = null;
    this.sending = true;
    while (this.waiting.length > 0 && !this.stopped) {
      const mail = this.waiting[0]!;
      try {
        await this.options.send(mail);
        if (this.waiting[0] === mail) this.waiting.shift();
        this.stats.sent++;
        if (this.failing) this.log("mail: the SMTP server accepts mail again");
        this.failing = false;
        if (this.droppedInOverflow > 0 && this.waiting.length < this.maxSize) {
          this.log(`mail: ${plural(this.droppedInOverflow, "mail was", "mails were")} dropped while the outbox was full`);
          this.droppedInOverflow = 0;
        }
        attempt = 0;
      } catch (error) {
        this.stats.failures++;
        if (this.stopped) break;
        const delay = this.retryDelaysMs[attempt];
        if (isPermanentFailure(error) || delay === undefined) {
          if (this.waiting[0] === mail) this.waiting.shift();
          this.stats.dropped++;
          this.log(`mail "${mail.subject}" not sent and dropped after ${plural(attempt + 1, "attempt", "attempts")}: ${describe(error)}`);
          attempt = 0;
          continue;
        }
        if (!this.failing) this.log(`mail "${mail.subject}" not sent (${describe(error)}); trying again in ${Math.round(delay / 1000)} s`);
        this.failing = true;
        this.sending = false;
        const next = attempt + 1;
        this.retryTimer = this.options.clock.setTimeout(() => void this.drain(next), delay);
        return;
      }
    }
    this.sending = false;
    this.settle();
  }

  // Wake whoever waits for an empty outbox.
  private settle(): void {
    if (this.waiting.length > 0 && !this.stopped) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
