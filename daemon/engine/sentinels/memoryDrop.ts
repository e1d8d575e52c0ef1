// Memory limits between scans: every look, the processes already near their
// limit are probed (limits.ts); and when the memory available to the whole
// system drops sharply within one look (one read of MemAvailable), every
// process with a memory limit is probed at once, since one of them may have
// jumped past its limit from far below it. Reading the few limited processes
// only then keeps the looks cheap when nothing happens.
import type { Sentinel } from "./watch.js";

/** A drop of this much of the smallest memory limit in force, within one look, is sharp. */
export const MEMORY_DROP_FRACTION = 0.1;

export interface MemoryDropDeps {
  /** MemAvailable in bytes, or null when it cannot be read (then only the processes near their limit are probed). */
  availableMemoryBytes(): number | null;
  /** The smallest memory limit of a running program, or null when none has one (nothing is read then). */
  smallestLimitBytes(): number | null;
  /** Probe the processes with memory limits: all of them, or those near their limit. */
  check(all: boolean): void;
}

export class MemoryDrop implements Sentinel {
  readonly name = "memory limits";
  private last: number | null = null;

  constructor(private readonly deps: MemoryDropDeps) {}

  look(): void {
    const smallest = this.deps.smallestLimitBytes();
    if (smallest === null) {
      this.last = null;
      return;
    }
    const available = this.deps.availableMemoryBytes();
    const dropped = available !== null && this.last !== null && this.last - available >= smallest * MEMORY_DROP_FRACTION;
    this.last = available;
    this.deps.check(dropped);
  }
}
