// The narrow interfaces through which the engine reaches the world (time, the
// process table, spawning, signals, the cooldown file), so that its decisions
// are tested with fakes and the same code runs on real processes.
import type { CooldownState } from "../cooldown/tracker.js";
import type { ProcessProbe } from "../proc/probe.js";
import type { ProcessSource } from "../proc/types.js";
import type { Spawner } from "../supervise/spawner.js";
import type { Clock } from "./clock.js";

/** Sends signals, refusing protected processes (see safety/guard.ts). */
export interface Signaller {
  kill(pid: number, signal: NodeJS.Signals): void;
}

/** Where the cooldown state lives between daemon runs. */
export interface CooldownStore {
  load(): CooldownState;
  /** Save without blocking (may finish later). */
  save(state: CooldownState): void;
  /** Save and finish before returning (at shutdown). */
  saveSync(state: CooldownState): void;
}

export interface EngineDeps {
  clock: Clock;
  source: ProcessSource;
  probe: ProcessProbe;
  spawner: Spawner;
  signaller: Signaller;
  cooldownStore: CooldownStore;
  /** Only this user's processes are adopted; defaults to the daemon's uid. */
  uid?: number;
}
