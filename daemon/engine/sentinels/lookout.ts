// The looks between scans taken by a lookout outside the event loop, when the
// daemon has one (the sentinel process, sentinel/): after every scan and every
// change of which processes run, it is told all it is to watch (it sends on
// only what changed), and it tells back only what trips. Should it fail, the
// engine's own sentinels (watch.ts) take the looks from then on.
import type { Lookout, LookoutWatch } from "../ports.js";

export interface LookoutLinkDeps {
  /** Everything to watch now. */
  what(): LookoutWatch;
  forks(count: number): void;
  ended(pid: number): void;
  overLimit(pid: number): void;
  /** The lookout failed: the looks are taken in the daemon from now on. */
  fallBack(): void;
  /** A fault while acting on a report: told, never thrown. */
  report(where: string, error: unknown): void;
}

export class LookoutLink {
  private active = false;

  constructor(
    private readonly lookout: Lookout,
    private readonly deps: LookoutLinkDeps,
  ) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    const { deps } = this;
    this.lookout.start({
      forks: (count) => this.guard("looking for a fork bomb after a surge of forks", () => deps.forks(count)),
      ended: (pid) => this.guard("acting on the end of an adopted program", () => deps.ended(pid)),
      overLimit: (pid) => this.guard("checking a memory limit", () => deps.overLimit(pid)),
      failed: () => {
        if (!this.active) return;
        this.active = false;
        deps.fallBack();
      },
    });
    this.refresh();
  }

  // Tell the lookout what to watch now (nothing is sent when nothing changed).
  refresh(): void {
    if (this.active) this.guard("telling the sentinel what to watch", () => this.lookout.watch(this.deps.what()));
  }

  stop(): void {
    this.active = false;
    this.lookout.stop();
  }

  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.deps.report(where, error);
    }
  }
}
