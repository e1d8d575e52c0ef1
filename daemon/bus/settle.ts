// Gives memory back after a burst of calls. Each call leaves garbage (decoded
// messages, records, read buffers whose memory lies outside the JavaScript
// heap); V8 collects the old generation late and keeps the heap it grew, so a
// burst of 10 000 calls left the daemon tens of MB larger for good. Once the
// calls stop for a moment, one full collection (Node's --expose-gc, set in the
// daemon's #! line) returns the heap to its size before the burst.

/** Calls (a refused one counts for REFUSED_WEIGHT: refused input is often large) before a settle is due. */
export const SETTLE_AFTER_CALLS = 20;
export const REFUSED_WEIGHT = SETTLE_AFTER_CALLS;
/** How long the bus must be quiet before collecting, so a burst is not slowed down. */
export const SETTLE_QUIET_MS = 1000;

type Collect = () => void;

// The full collection Node exposes with --expose-gc, or null without it (tests, other launchers).
function exposedGc(): Collect | null {
  const gc: unknown = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => (gc as () => void)() : null;
}

export class MemorySettler {
  private weight = 0;
  private timer: NodeJS.Timeout | null = null;
  /** How many settles ran (for tests). */
  settles = 0;

  constructor(private readonly collect: Collect | null = exposedGc()) {}

  // One call was served; `refused` when it was answered with an error about its input.
  note(refused = false): void {
    if (this.collect === null) return;
    this.weight += refused ? REFUSED_WEIGHT : 1;
    if (this.weight < SETTLE_AFTER_CALLS) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.settle(), SETTLE_QUIET_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private settle(): void {
    this.timer = null;
    this.weight = 0;
    this.settles += 1;
    this.collect?.();
  }
}
