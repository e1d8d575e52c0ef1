// Fork bombs between scans: the kernel counts every fork since boot, and one
// read of that counter costs microseconds. Once it has grown by
// FORK_SURGE_PER_LOOK or more since the sentinel last told (within one look,
// or over several at a slower pace), the watchers (the fork-bomb detector) are
// told, and they take a fresh look at the process table when those forks could
// have taken a tree past its limit, rather than at the next scan. Forks below
// the mark are kept, not dropped: a bomb that slows down after its first burst
// (a loaded machine) still adds up. A jump on a busy machine only costs that
// look: judging is left to the detector.
import type { Sentinel } from "./watch.js";

/** Forks that are told to the watchers together: within one look (100 ms), 100 a second, the default spawn-rate limit. */
export const FORK_SURGE_PER_LOOK = 10;

export interface ForkSurgeDeps {
  /** The kernel's fork counter, or null when it cannot be read (the sentinel then stays quiet). */
  forksSinceBoot(): number | null;
  /** Forks surged: `forks` since the last look. */
  surged(forks: number): void;
}

export class ForkSurge implements Sentinel {
  readonly name = "fork surges";
  /** The counter when the sentinel last told (or first read it). */
  private last: number | null = null;

  constructor(
    private readonly deps: ForkSurgeDeps,
    private readonly threshold = FORK_SURGE_PER_LOOK,
  ) {}

  look(): void {
    const now = this.deps.forksSinceBoot();
    if (now === null || this.last === null) {
      this.last = now;
      return;
    }
    const forks = now - this.last;
    if (forks < this.threshold) return;
    this.last = now;
    this.deps.surged(forks);
  }
}
