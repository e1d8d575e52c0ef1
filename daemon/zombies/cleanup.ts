// Cleaning up zombies. A zombie is already dead: only its parent can collect
// it (or init, once the parent is gone). So each parent is first asked to reap
// (SIGCHLD); after a short wait, and only when the configuration allows it,
// the parents that still hold zombies are ended (SIGTERM, then SIGKILL), which
// hands the zombies to init or the session's subreaper, which reaps them.
// A parent is never ended when it is protected: PID 1, kernel threads, the
// daemon and its ancestors, the desktop session's programs and other users'
// processes (all refused by the SignalGuard), and the names in [zombies]
// protected. Pure of /proc: scans, signals and time come in as dependencies.
import type { Signaller } from "../engine/engine.js";
import type { ProcessSnapshot } from "../proc/types.js";
import { ProtectedError } from "../safety/guard.js";
import { findZombies, type ZombieInfo } from "./detect.js";

export interface CleanupDeps {
  /** The SignalGuard in the daemon: it refuses protected processes by throwing. */
  signaller: Signaller;
  rescan(): ProcessSnapshot;
  sleep(ms: number): Promise<void>;
  /** Ends a parent another way when it returns true (the engine restarts a watched program). */
  endWatched?(pid: number): boolean;
}

export interface CleanupOptions {
  killParents: boolean;
  /** Parent names (comm) never ended, beside the guard's own. */
  protectedNames: readonly string[];
  /** How long to wait for reaping after SIGCHLD and after ending parents, ms. */
  reapWaitMs: number;
  /** Only zombies this selects are worked on (a scheduled cleanup leaves young ones); all by default. */
  select?(zombie: ZombieInfo, snapshot: ProcessSnapshot): boolean;
}

export interface CleanupReport {
  /** Zombies worked on that are gone at the end. */
  reaped: number;
  /** Zombies in the process table at the end (all of them, as ZombieCount tells). */
  remaining: number;
  /** Parents sent SIGCHLD. */
  asked: number;
  /** Parents ended. */
  ended: Array<{ pid: number; name: string }>;
  /** Parents left alone, with why. */
  spared: Array<{ pid: number; name: string; reason: string }>;
  /** The last scan, for the zombie list. */
  snapshot: ProcessSnapshot;
}

/** How often the process table is looked at while waiting, ms. */
export const POLL_MS = 50;
/** A parent that ignores SIGTERM gets SIGKILL after this share of the reap wait. */
const TERM_SHARE = 0.5;

// Ask, wait, end the parents that may be ended, wait, and tell what happened.
export async function cleanupZombies(deps: CleanupDeps, options: CleanupOptions): Promise<CleanupReport> {
  const first = deps.rescan();
  const targets = findZombies(first).filter((zombie) => options.select?.(zombie, first) ?? true);
  const identity = new Map(targets.map((zombie) => [zombie.pid, first.processes.get(zombie.pid)?.startTicks ?? -1]));
  const parents = new Map<number, string>();
  for (const zombie of targets) if (zombie.ppid > 0) parents.set(zombie.ppid, zombie.parentName);
  const spared = new Map<number, { pid: number; name: string; reason: string }>();
  const ended: Array<{ pid: number; name: string }> = [];

  let asked = 0;
  for (const [pid, name] of parents) {
    const refusal = trySignal(deps.signaller, pid, "SIGCHLD");
    if (refusal === null) asked++;
    else spared.set(pid, { pid, name, reason: refusal });
  }
  let snapshot = await waitUntilGone(deps, identity, options.reapWaitMs);

  if (options.killParents) {
    const holding = parentsHolding(snapshot, identity);
    const protectedNames = new Set(options.protectedNames);
    const terminated: number[] = [];
    for (const pid of holding) {
      const name = snapshot.processes.get(pid)?.comm ?? parents.get(pid) ?? "";
      if (spared.has(pid)) continue;
      if (protectedNames.has(name)) {
        spared.set(pid, { pid, name, reason: `${name} is in [zombies] protected` });
        continue;
      }
      if (deps.endWatched?.(pid)) {
        ended.push({ pid, name });
        continue;
      }
      const refusal = trySignal(deps.signaller, pid, "SIGTERM");
      if (refusal !== null) spared.set(pid, { pid, name, reason: refusal });
      else {
        ended.push({ pid, name });
        terminated.push(pid);
      }
    }
    if (ended.length > 0) {
      snapshot = await waitUntilGone(deps, identity, options.reapWaitMs * TERM_SHARE);
      // Parents that ignored SIGTERM and still hold zombies.
      const stubborn = parentsHolding(snapshot, identity).filter((pid) => terminated.includes(pid));
      for (const pid of stubborn) trySignal(deps.signaller, pid, "SIGKILL");
      snapshot = await waitUntilGone(deps, identity, options.reapWaitMs);
    }
  }

  const remainingTargets = stillThere(snapshot, identity);
  return {
    reaped: identity.size - remainingTargets.length,
    remaining: findZombies(snapshot).length,
    asked,
    ended,
    spared: [...spared.values()],
    snapshot,
  };
}

// Send a signal; the guard's refusal (or any failure) as a sentence, null when sent.
function trySignal(signaller: Signaller, pid: number, signal: NodeJS.Signals): string | null {
  try {
    signaller.kill(pid, signal);
    return null;
  } catch (error) {
    if (error instanceof ProtectedError) return error.reason;
    return error instanceof Error ? error.message : String(error);
  }
}

// The zombies of `identity` still in the snapshot (the same process, still a zombie).
function stillThere(snapshot: ProcessSnapshot, identity: ReadonlyMap<number, number>): number[] {
  const pids: number[] = [];
  for (const [pid, startTicks] of identity) {
    const sample = snapshot.processes.get(pid);
    if (sample && sample.startTicks === startTicks && sample.state === "Z") pids.push(pid);
  }
  return pids;
}

// The parents of the zombies still there.
function parentsHolding(snapshot: ProcessSnapshot, identity: ReadonlyMap<number, number>): number[] {
  const parents = new Set<number>();
  for (const pid of stillThere(snapshot, identity)) {
    const ppid = snapshot.processes.get(pid)?.ppid ?? 0;
    if (ppid > 0) parents.add(ppid);
  }
  return [...parents];
}

// Scan until none of the zombies is left or the wait is over; returns the last scan.
async function waitUntilGone(deps: CleanupDeps, identity: ReadonlyMap<number, number>, waitMs: number): Promise<ProcessSnapshot> {
  let snapshot = deps.rescan();
  for (let waited = 0; waited < waitMs && stillThere(snapshot, identity).length > 0; waited += POLL_MS) {
    await deps.sleep(POLL_MS);
    snapshot = deps.rescan();
  }
  return snapshot;
}
