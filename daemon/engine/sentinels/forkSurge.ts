// Fork bombs between scans: the kernel counts every fork since boot, and one
// read of that counter costs microseconds. When it jumps by FORK_SURGE_PER_LOOK
// or more within one look, the watchers (the fork-bomb detector) take a fresh
// look at the process table at once, rather than at the next scan. A jump on
// a busy machine only costs that look: judging is left to the detector.
import type { Sentinel } from "./watch.js";

/** Forks within one look (100 ms) that call for a look at the process table: 100 a second, the default spawn-rate limit. */
export const FORK_SURGE_PER_LOOK = 10;

export interface ForkSurgeDeps {
  /** The kernel's fork counter, or null when it cannot be read (the sentinel then stays quiet). */
  forksSinceBoot(): number | null;
  /** Forks surged: `forks` since the last look. */
  surged(forks: number): void;
}

export class ForkSurge implements Sentinel {
  readonly name = "fork surges";
  private last: number | null = null;

  constructor(
    private readonly deps: ForkSurgeDeps,
    private readonly threshold = FORK_SURGE_PER_LOOK,
  ) {}

  look(): void {
    const now = this.deps.forksSinceBoot();
    const last = this.last;
    this.last = now;
    if (now === null || last === null) return;
    if (now - last >= this.threshold) this.deps.surged(now - last);
  }
}
