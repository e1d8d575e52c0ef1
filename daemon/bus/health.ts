// The Health property, one word for the top bar:
//   critical: a process held in cooldown after crashing again and again (a
//             crash loop; a cooldown resumed from an earlier daemon run counts
//             as one), or a process whose command could not be started;
//   degraded: a process waiting out its restart backoff, a process held in
//             cooldown after limit or anomaly restarts or clean exits, an
//             anomaly within the last ten minutes, or a rejected config.toml
//             (the policies in force are not the ones the file says);
//   ok:       none of these.
import type { UnitView } from "../engine/engine.js";
import type { EngineEvent } from "../engine/events.js";

export type Health = "ok" | "degraded" | "critical";

/** A crash, a clean exit, or a stop the engine asked for (a limit, an anomaly, the user). */
export type LastEnd = "crash" | "exit" | "stop";

/** How long a detected anomaly keeps Health at degraded. */
export const RECENT_ANOMALY_MS = 10 * 60 * 1000;

/** What, beyond the engine's current view, Health depends on. */
export interface HealthInputs {
  units: readonly UnitView[];
  /** Policies whose last start attempt failed and that have not run since. */
  failedStarts: ReadonlySet<string>;
  /** How each policy's process last ended, when this daemon saw it end. */
  lastEnds: ReadonlyMap<string, LastEnd>;
  /** Anomalies within RECENT_ANOMALY_MS. */
  recentAnomalies: number;
  /** config.toml on disk was rejected. */
  configRejected?: boolean;
}

// Decide Health from the units' states and what the events told.
export function assessHealth(inputs: HealthInputs): Health {
  let degraded = inputs.recentAnomalies > 0 || inputs.configRejected === true;
  for (const unit of inputs.units) {
    if (inputs.failedStarts.has(unit.name) && unit.pid === 0 && unit.state !== "stopped") return "critical";
    if (unit.state === "cooldown") {
      const lastEnd = inputs.lastEnds.get(unit.name);
      if (lastEnd === undefined || lastEnd === "crash") return "critical";
      degraded = true;
    }
    if (unit.state === "backoff") degraded = true;
  }
  return degraded ? "degraded" : "ok";
}

/** Follows the events Health needs that the engine's view does not keep. */
export class HealthEvents {
  readonly failedStarts = new Set<string>();
  readonly lastEnds = new Map<string, LastEnd>();

  // Note what one event says about a policy's last start and last end.
  observe(event: EngineEvent): void {
    switch (event.kind) {
      case "start-failed":
        this.failedStarts.add(event.name);
        break;
      case "started":
      case "adopted":
      case "reattached":
        this.failedStarts.delete(event.name);
        break;
      case "restarted":
        this.failedStarts.delete(event.name);
        break;
      case "crashed":
        this.lastEnds.set(event.name, "crash");
        break;
      case "exited":
        this.lastEnds.set(event.name, "exit");
        break;
      case "stopped":
        this.lastEnds.set(event.name, "stop");
        break;
      case "config-reloaded":
        for (const name of event.removed) {
          this.failedStarts.delete(name);
          this.lastEnds.delete(name);
        }
        break;
      default:
        break;
    }
  }
}
