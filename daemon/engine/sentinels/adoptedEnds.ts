// The end of an adopted program, seen between scans. Selfheal is not its
// parent, so no exit event comes: a signal-0 probe of each adopted PID (one
// system call, no read of /proc) tells at once when no process has that PID
// any more. A PID that still answers may be a zombie or, after a wrap, a new
// process: the scan, which compares start times, still judges those.
import type { Unit } from "../unit.js";
import type { Sentinel } from "./watch.js";

export interface AdoptedEndsDeps {
  units(): Iterable<Unit>;
  /** False only when no process has this PID (signal 0 answered ESRCH). */
  exists(pid: number): boolean;
  /** The unit's adopted process has ended. */
  ended(unit: Unit): void;
}

export class AdoptedEnds implements Sentinel {
  readonly name = "ends of adopted programs";

  constructor(private readonly deps: AdoptedEndsDeps) {}

  look(): void {
    for (const unit of this.deps.units()) {
      // Our own children's ends come from their keeper or exit event; a stop under way polls on its own.
      if (unit.pid === 0 || unit.managed || unit.stopping !== null || unit.starting) continue;
      if (!this.deps.exists(unit.pid)) this.deps.ended(unit);
    }
  }
}
