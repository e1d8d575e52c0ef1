// Restart-loop throttling: too many restarts within a window start a cooldown
// during which nothing is restarted; after it a fresh window begins.
import type { CooldownPolicy } from "../config/policy.js";

/** What is remembered per policy; persisted so a daemon restart keeps it. */
export interface CooldownRecord {
  /** Times (ms since the epoch) of the restarts still inside the window. */
  restarts: number[];
  /** End of the active cooldown (ms since the epoch), or 0 when none. */
  untilMs: number;
  /**
   * False while a cooldown that began is saved but not yet told (its cooldown-started event): a
   * daemon killed in between leaves it so, and the next one tells it. Absent: told (older files).
   */
  announced?: boolean;
}

export type CooldownState = Record<string, CooldownRecord>;

export type RestartVerdict =
  | { allowed: true }
  | { allowed: false; untilMs: number; restartsInWindow: number };

/** A program's restarts inside its window and the end of its cooldown (0 when none). */
export interface CooldownStatus {
  restartsInWindow: number;
  untilMs: number;
}

/** The status of a program with no record, shared: the engine asks for it for every program at every scan. */
const NO_COOLDOWN: Readonly<CooldownStatus> = Object.freeze({ restartsInWindow: 0, untilMs: 0 });

export class CooldownTracker {
  private records = new Map<string, CooldownRecord>();

  constructor(initial: CooldownState = {}) {
    for (const [name, record] of Object.entries(initial)) {
      this.records.set(name, { ...record, restarts: [...record.restarts] });
    }
  }

  // May `name` restart now? When the window is full this starts the cooldown, not yet announced
  // (unannounced() says so until markAnnounced()).
  check(name: string, policy: CooldownPolicy, nowMs: number): RestartVerdict {
    const record = this.recordOf(name);
    if (record.untilMs > nowMs) {
      return { allowed: false, untilMs: record.untilMs, restartsInWindow: record.restarts.length };
    }
    this.prune(record, policy, nowMs);
    if (record.restarts.length < policy.maxRestarts) return { allowed: true };
    record.untilMs = nowMs + policy.pauseSec * 1000;
    record.announced = false;
    return { allowed: false, untilMs: record.untilMs, restartsInWindow: record.restarts.length };
  }

  // Whether `name` is in a cooldown that has not been told yet.
  unannounced(name: string): boolean {
    const record = this.records.get(name);
    return record !== undefined && record.untilMs > 0 && record.announced === false;
  }

  markAnnounced(name: string): void {
    const record = this.records.get(name);
    if (record) record.announced = true;
  }

  // Count a restart that is happening now.
  recordRestart(name: string, policy: CooldownPolicy, nowMs: number): void {
    const record = this.recordOf(name);
    this.prune(record, policy, nowMs);
    record.restarts.push(nowMs);
  }

  // The cooldown's pause is over: forget it and start a fresh window.
  endCooldown(name: string): void {
    this.records.delete(name);
  }

  /** Restarts inside the window and the cooldown's end (0 when none); read-only (the one answer for every program with no record). */
  status(name: string, policy: CooldownPolicy, nowMs: number): Readonly<CooldownStatus> {
    const record = this.records.get(name);
    if (!record) return NO_COOLDOWN;
    const windowStart = nowMs - policy.windowSec * 1000;
    const inWindow = record.restarts.filter((t) => t > windowStart).length;
    return { restartsInWindow: inWindow, untilMs: record.untilMs > nowMs ? record.untilMs : 0 };
  }

  forget(name: string): void {
    this.records.delete(name);
  }

  names(): string[] {
    return [...this.records.keys()];
  }

  toJSON(): CooldownState {
    return Object.fromEntries(this.records);
  }

  private recordOf(name: string): CooldownRecord {
    let record = this.records.get(name);
    if (!record) {
      record = { restarts: [], untilMs: 0 };
      this.records.set(name, record);
    }
    return record;
  }

  // Drop restarts older than the window, and a cooldown that has run out.
  private prune(record: CooldownRecord, policy: CooldownPolicy, nowMs: number): void {
    const windowStart = nowMs - policy.windowSec * 1000;
    record.restarts = record.restarts.filter((t) => t > windowStart);
    if (record.untilMs !== 0 && record.untilMs <= nowMs) {
      record.untilMs = 0;
      record.restarts = [];
      delete record.announced;
    }
  }
}
