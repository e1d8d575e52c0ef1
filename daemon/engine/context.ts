// What the engine's parts (life cycle, adoption, limits) share: the ports, the
// units, the cooldown tracker, the last scan and the configuration in force.
import type { Config } from "../config/policy.js";
import type { CooldownTracker } from "../cooldown/tracker.js";
import type { ProcessSnapshot } from "../proc/types.js";
import type { EngineEvent } from "./events.js";
import type { EngineDeps } from "./ports.js";
import type { Unit } from "./unit.js";

export interface EngineContext {
  readonly deps: EngineDeps;
  /** The units by policy name; a unit no longer in here was removed with its policy. */
  readonly units: ReadonlyMap<string, Unit>;
  readonly cooldown: CooldownTracker;
  /** Only this user's processes are adopted. */
  readonly uid: number;
  /** The last scan, or null before the first. */
  snapshot(): ProcessSnapshot | null;
  config(): Config;
  emit(event: EngineEvent): void;
}

export const MS_PER_SEC = 1000;
