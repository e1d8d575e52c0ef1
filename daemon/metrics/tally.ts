// The counts the metrics keep themselves, from the engine's events and the
// scans it has made: crashes by signal, anomalies by kind, zombies reaped, CPU
// seconds. Nothing here scans or asks the engine anything.
import type { EngineEvent } from "../engine/events.js";
import type { UnitView } from "../engine/unit.js";
import type { ProcessSnapshot } from "../proc/types.js";

/** The signal label of a crash that was a non-zero exit code. */
const EXIT_CODE_SIGNAL = "none";
/** The signal label of a crash whose status cannot be known (an adopted program). */
const UNKNOWN_SIGNAL = "unknown";

/** counts[a][b]: a two-level count (name, then signal or kind). */
type Counts = Map<string, Map<string, number>>;

function add(counts: Counts, outer: string, inner: string, by = 1): void {
  const row = counts.get(outer) ?? new Map<string, number>();
  row.set(inner, (row.get(inner) ?? 0) + by);
  counts.set(outer, row);
}

export class MetricsTally {
  readonly crashes: Counts = new Map();
  readonly anomalies: Counts = new Map();
  zombiesReaped = 0;
  /** Processes in the last scan. */
  processesScanned = 0;
  /** CPU seconds per policy, and the process each was last read from ("pid:startTicks" and its ticks then). */
  private readonly cpu = new Map<string, { seconds: number; process: string; ticks: number }>();

  constructor(private readonly ticksPerSecond: number) {}

  // One engine event: what it adds to the counts.
  observe(event: EngineEvent, policyNames: ReadonlySet<string>): void {
    switch (event.kind) {
      case "crashed":
        add(this.crashes, event.name, event.signal ?? (event.statusKnown ? EXIT_CODE_SIGNAL : UNKNOWN_SIGNAL));
        break;
      case "anomaly":
        // Under the global watch the name is any program's: counted without one, so the labels stay bounded.
        add(this.anomalies, policyNames.has(event.name) ? event.name : "", event.type);
        break;
      case "zombies-cleaned":
        this.zombiesReaped += event.reaped;
        break;
      default:
        break;
    }
  }

  // One scan: the CPU time each running program used since the scan before.
  // A process seen for the first time is the baseline: what it used before is not counted.
  observeScan(snapshot: ProcessSnapshot, units: readonly UnitView[]): void {
    this.processesScanned = snapshot.processes.size;
    for (const unit of units) {
      const sample = unit.pid === 0 ? undefined : snapshot.processes.get(unit.pid);
      if (sample === undefined) continue;
      const process = `${sample.pid}:${sample.startTicks}`;
      const seen = this.cpu.get(unit.name);
      if (seen === undefined) {
        this.cpu.set(unit.name, { seconds: 0, process, ticks: sample.cpuTicks });
        continue;
      }
      if (seen.process === process && sample.cpuTicks >= seen.ticks) seen.seconds += (sample.cpuTicks - seen.ticks) / this.ticksPerSecond;
      seen.process = process;
      seen.ticks = sample.cpuTicks;
    }
  }

  cpuSeconds(name: string): number {
    return this.cpu.get(name)?.seconds ?? 0;
  }

  // A policy is gone: its counts go with it (the series end), so removed names do not pile up.
  forgetAllBut(names: ReadonlySet<string>): void {
    for (const counts of [this.crashes, this.cpu]) for (const name of counts.keys()) if (!names.has(name)) counts.delete(name);
    for (const name of this.anomalies.keys()) if (name !== "" && !names.has(name)) this.anomalies.delete(name);
  }
}
