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

/** An adopted process whose end the lookout tells, named by PID and start time. */
export interface WatchedEnd {
  pid: number;
  startTicks: number;
}

/** A memory limit the lookout watches: the resident memory of `pids` summed, told when above `limitBytes`. */
export interface WatchedMemory {
  /** The unit's process: the group's key, and what the engine is told. */
  pid: number;
  /** The unit's process and, for a tree, its descendants as the last scan knew them. */
  pids: readonly number[];
  limitBytes: number;
  /** Near its limit (or new, or growing): read every look; else only when available memory drops sharply. */
  near: boolean;
}

/** Everything the lookout is to watch now (each call says all of it; the adaptor sends only what changed). */
export interface LookoutWatch {
  /** Forks told together (the fork-surge sentinel's mark). */
  forksPerSurge: number;
  /** A fall of available memory this large within one look reads every memory group; 0: none is in force. */
  memoryDropBytes: number;
  ends: readonly WatchedEnd[];
  memory: readonly WatchedMemory[];
}

/** What the lookout tells the engine; each only when it trips. */
export interface LookoutReports {
  /** `count` forks since last told. */
  forks(count: number): void;
  /** The watched process `pid` has ended (or its PID names another process now). */
  ended(pid: number): void;
  /** The memory of the unit whose process is `pid` rose above its limit. */
  overLimit(pid: number, rssBytes: number): void;
  /** The lookout stopped working: the engine takes the looks itself from now on. */
  failed(reason: string): void;
}

/**
 * The looks between scans taken outside the daemon's event loop (a small
 * process, sentinel/), so that the daemon wakes only when something trips.
 * Without one, the engine takes them itself on a 100 ms timer (sentinels/).
 */
export interface Lookout {
  start(reports: LookoutReports): void;
  watch(what: LookoutWatch): void;
  stop(): void;
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
  /** The looks between scans outside the event loop; without it (or once it fails) the engine's own sentinels take them. */
  lookout?: Lookout;
  /** Only this user's processes are adopted; defaults to the daemon's uid. */
  uid?: number;
}
