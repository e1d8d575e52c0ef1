// One policy's process as the engine tracks it, and what the outside world may know of it.
import type { Policy } from "../config/policy.js";
import type { Usage } from "../limits/sustain.js";
import { SustainCounter } from "../limits/sustain.js";
import type { ChildHandle } from "../supervise/spawner.js";
import type { StartReason } from "./events.js";

export type UnitState = "running" | "stopped" | "crashed" | "backoff" | "cooldown" | "exited";

/** What the outside world may know of one policy's process. */
export interface UnitView {
  name: string;
  pid: number;
  /** The process's start time in clock ticks (with pid, names it for good); -1 until a scan has seen it. */
  startTicks: number;
  state: UnitState;
  cpuPercent: number;
  rssBytes: number;
  cpuLimit: number | null;
  memoryLimitBytes: number | null;
  restarts: number;
  cooldownRemainingSec: number;
  cooldownUntilMs: number;
  restartsInWindow: number;
  managed: boolean;
  startedAtMs: number;
  /** Why nothing was adopted: the match names only protected processes ("" when not so). */
  protectedMatch: string;
}

/** What happens once a stop requested by the engine completes. */
export type AfterStop = { then: "hold" } | { then: "restart"; reason: StartReason; throttled: boolean };

/** A stop under way: what follows it, who waits for it, and the SIGKILL timer. */
export type Stopping = AfterStop & { waiters: Array<() => void>; killTimer: { cancel(): void } | null };

/** A start under way that must not go on: its child is ended as soon as it exists. */
export interface StartAbort {
  /** Why, for the event: "it was stopped while it was starting". */
  why: string;
  /** Callers waiting for the child to be gone (StopProcess). */
  waiters: Array<() => void>;
}

export interface Unit {
  policy: Policy;
  state: UnitState;
  pid: number;
  startTicks: number;
  managed: boolean;
  /** What tells the program's end while it is selfheal's own (a keeper, or the daemon's own child); null otherwise. */
  child: ChildHandle | null;
  /**
   * The handle of a program that ended and whose restart is still to come (a backoff): its keeper's
   * record of the end is kept until the restart is handed to a spawner, so that a daemon killed in
   * between learns of the end again and restarts it. Released when the unit is stopped or let go.
   */
  heldEnd: ChildHandle | null;
  startedAtMs: number;
  /** A start is under way (spawn not yet confirmed). */
  starting: boolean;
  /** Set when the start under way must be undone (a stop arrived meanwhile). */
  startAbort: StartAbort | null;
  /** Restarts done by the daemon since it started. */
  restarts: number;
  /** Restarts in a row without a healthy run, for the backoff. */
  consecutive: number;
  timer: { cancel(): void } | null;
  stopping: Stopping | null;
  sustain: SustainCounter;
  /** A notify-only breach was already announced; quiet until usage drops again. */
  breachAnnounced: boolean;
  usage: Usage;
  /** Resident memory at the scan before the last, to see it growing. */
  previousRssBytes: number;
  /** Scans that have seen the current process (a new one's growth is not known yet). */
  scansSeen: number;
  /** Processes ("pid:startTicks") whose signal the guard refused: never adopted again. */
  refused: Set<string>;
  /** Why nothing was adopted ("" when not so), for the status. */
  protectedMatch: string;
  /** The protected match was told once already (until the policy changes). */
  protectedReported: boolean;
}

export function newUnit(policy: Policy): Unit {
  return {
    policy,
    state: "stopped",
    pid: 0,
    startTicks: -1,
    managed: false,
    child: null,
    heldEnd: null,
    startedAtMs: 0,
    starting: false,
    startAbort: null,
    restarts: 0,
    consecutive: 0,
    timer: null,
    stopping: null,
    sustain: new SustainCounter(),
    breachAnnounced: false,
    usage: { cpuPercent: 0, rssBytes: 0 },
    previousRssBytes: 0,
    scansSeen: 0,
    refused: new Set(),
    protectedMatch: "",
    protectedReported: false,
  };
}

// How a process is named for good: its pid and its start time.
export function identityOf(pid: number, startTicks: number): string {
  return `${pid}:${startTicks}`;
}

// The end held for a restart to come is done with (the restart is handed over, or will not come): its record is dropped.
export function releaseHeldEnd(unit: Unit): void {
  const held = unit.heldEnd;
  unit.heldEnd = null;
  held?.release?.();
}

// Forget the unit's process (it ended, or it is let go): nothing of it is counted any more.
export function clearProcess(unit: Unit): void {
  // Nothing more is heard of it: a keeper's record of an end already acted on is dropped.
  unit.child?.release?.();
  unit.child = null;
  unit.pid = 0;
  unit.managed = false;
  unit.usage = { cpuPercent: 0, rssBytes: 0 };
  unit.previousRssBytes = 0;
  unit.scansSeen = 0;
  unit.sustain.reset();
  unit.breachAnnounced = false;
}
