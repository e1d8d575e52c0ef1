// The sentinels' one shared timer, a repeating one (not a new timer per look):
// every SENTINEL_PERIOD_MS each sentinel takes one small look (a signal-0
// probe, one read of a /proc counter) for what must not wait for the next
// scan. Time comes from the clock port, so unit tests drive it with a fake clock.
import type { Clock, Timer } from "../clock.js";

/** How often the sentinels look: ten small looks a second, cheaper than one scan. */
export const SENTINEL_PERIOD_MS = 100;

export interface Sentinel {
  /** Named in the report of a fault inside it. */
  readonly name: string;
  /** One look; whatever it finds it acts on through the callbacks it was given. */
  look(nowMs: number): void;
}

export class SentinelWatch {
  private readonly sentinels: Sentinel[] = [];
  private timer: Timer | null = null;

  constructor(
    private readonly clock: Clock,
    /** A fault inside a sentinel: told, never thrown; the others go on looking. */
    private readonly report: (where: string, error: unknown) => void,
    private readonly periodMs = SENTINEL_PERIOD_MS,
  ) {}

  add(sentinel: Sentinel): void {
    this.sentinels.push(sentinel);
  }

  start(): void {
    this.timer ??= this.clock.setInterval(() => this.lookNow(), this.periodMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  // Every sentinel looks once, in the order added.
  lookNow(): void {
    const now = this.clock.now();
    for (const sentinel of this.sentinels) {
      try {
        sentinel.look(now);
      } catch (error) {
        this.report(`looking out for ${sentinel.name}`, error);
      }
    }
  }
}
