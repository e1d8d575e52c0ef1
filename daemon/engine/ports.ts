// The narrow interfaces through which the engine reaches the world (time, the
// process table, spawning, signals, the cooldown file), so that its decisions
// are tested with fakes and the same code runs on real processes.
import type { CooldownState } from "../cooldown/tracker.js";
import type { SystemCounters } from "../proc/counters.js";
import type { ProcessProbe } from "../proc/probe.js";
import type { ProcessSample, ProcessSnapshot, ProcessSource } from "../proc/types.js";
import type { Spawner } from "../supervise/spawner.js";
import type { Clock } from "./clock.js";

/** Sends signals, refusing protected processes with a ProtectedError (see safety/guard.ts). */
export interface Signaller {
  /** With startTicks, only while pid is still the process that started then (a reused PID is not signalled). */
  kill(pid: number, signal: NodeJS.Signals, startTicks?: number): void;
  /**
   * Signal the process group of a leader that leads its session and group, in one call, when every
   * process of that session in the snapshot may be signalled (see SignalGuard.killGroup). Optional:
   * without it, a containment signals each member.
   */
  killGroup?(snapshot: ProcessSnapshot, leader: number, leaderStartTicks: number, signal: NodeJS.Signals): boolean;
}

/** The signal gate, which also tells which processes it protects, so they are never adopted or counted. */
export interface Guard extends Signaller {
  /** Why the process of this scan's sample is protected, or null when it is not (no further reads). */
  refusalFor(sample: ProcessSample): string | null;
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
  signaller: Guard;
  cooldownStore: CooldownStore;
  /** The kernel's fork and memory counters, for the sentinels between scans; without them those sentinels are off. */
  counters?: SystemCounters;
  /** Only this user's processes are adopted; defaults to the daemon's uid. */
  uid?: number;
}
