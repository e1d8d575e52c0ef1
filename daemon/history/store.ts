// The trend of every watched program: after each scan, its CPU % and resident memory go into a
// ring of its own (history/ring.ts), kept for HISTORY_MS. A program that is not running adds
// nothing, so a gap in the times is a time it was down. A removed policy's ring goes.
import type { Clock } from "../engine/clock.js";
import type { UnitView } from "../engine/unit.js";

import { HistoryRing, type Sample } from "./ring.js";

/** How far back the history goes. */
export const HISTORY_MS = 10 * 60_000;
/** At most one sample per this many milliseconds (scans faster than 4 a second keep 10 minutes all the same). */
export const MIN_SPACING_MS = 250;
/** Samples per program: 10 minutes at one sample per MIN_SPACING_MS. */
export const SAMPLES_PER_PROGRAM = HISTORY_MS / MIN_SPACING_MS;

/** What the store needs of the engine. */
export interface HistorySource {
  list(): UnitView[];
  /** Each scan, with the units as it left them (the engine takes that list once for all its observers). */
  onScan(observer: (snapshot: unknown, views: readonly UnitView[]) => void): () => void;
}

export class HistoryStore {
  private readonly rings = new Map<string, HistoryRing>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly source: HistorySource,
    private readonly clock: Clock,
  ) {}

  // Record after every scan from now on.
  start(): void {
    this.unsubscribe ??= this.source.onScan((_snapshot, views) => this.record(this.clock.now(), views));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  // One sample of every running program; rings of policies gone are dropped.
  record(nowMs: number, units: readonly UnitView[] = this.source.list()): void {
    /** Units that have a ring: fewer than the rings means a policy went (no set of names made at every scan). */
    let withRing = 0;
    for (const unit of units) {
      if (unit.pid === 0) {
        if (this.rings.has(unit.name)) withRing++;
        continue;
      }
      withRing++;
      let ring = this.rings.get(unit.name);
      if (!ring) {
        ring = new HistoryRing(SAMPLES_PER_PROGRAM);
        this.rings.set(unit.name, ring);
      }
      // One sample per MIN_SPACING_MS slot of time: faster scans are thinned, not the history shortened.
      const last = ring.lastTimeMs;
      if (last !== null && Math.floor(nowMs / MIN_SPACING_MS) <= Math.floor(last / MIN_SPACING_MS)) continue;
      ring.push(nowMs, unit.cpuPercent, unit.rssBytes);
    }
    if (withRing < this.rings.size) this.dropRingsOfPoliciesGone(units);
  }

  private dropRingsOfPoliciesGone(units: readonly UnitView[]): void {
    const names = new Set(units.map((unit) => unit.name));
    for (const name of this.rings.keys()) if (!names.has(name)) this.rings.delete(name);
  }

  // The samples of one program since `sinceMs` (no earlier than HISTORY_MS ago), oldest first.
  history(name: string, sinceMs: number): Sample[] {
    const ring = this.rings.get(name);
    if (!ring) return [];
    return ring.since(Math.max(sinceMs, this.clock.now() - HISTORY_MS));
  }

  /** The bytes all rings' samples take. */
  get byteLength(): number {
    let total = 0;
    for (const ring of this.rings.values()) total += ring.byteLength;
    return total;
  }
}
