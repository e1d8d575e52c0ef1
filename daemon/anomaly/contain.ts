// Containing a fork bomb: stop every member (SIGSTOP) so that none can fork
// again, look again for members forked meanwhile and stop those too, until a
// fresh scan shows every member stopped; then SIGKILL them all and scan until
// none is left. Killing only the root would leave its children running, and
// killing members one by one while the others still run lets them replace
// themselves. Every signal goes through the signaller (the SignalGuard) and
// names its process by (pid, start time), so a PID reused since the look that
// found it is never signalled. When the bomb's root leads its session and
// its process group, and every process of that session is a member, a stop or
// a kill goes to the whole group in one signal (the guard's killGroup): one
// system call instead of hundreds, each of which lets a woken member take the
// CPU from the daemon on a busy machine. Members outside that group are still
// signalled one by one; only they are waited for until a scan shows them stopped.
// After a surge of forks, the group may be stopped even earlier, on the quick
// look (a peek) that shows the tree at its limit (holdGroup): the full look that
// confirms the bomb is then the look after the stop, and the kill follows it; a
// full look that finds no bomb lets the group go on (releaseGroup).
import type { Signaller } from "../engine/engine.js";
import type { ProcessSnapshot } from "../proc/types.js";
import type { Members } from "./forkBomb.js";

export interface ContainDeps {
  signaller: Signaller;
  /** A fresh scan of the process table. */
  rescan(): ProcessSnapshot;
  sleep(ms: number): Promise<void>;
  /** A monotonic clock in ms, for the durations reported. */
  now(): number;
}

export interface ContainTarget {
  /** The process the bomb descends from, named by pid and start time; its group is signalled at once when it may be (see above). */
  root?: { pid: number; startTicks: number };
  /** The members in a fresh snapshot, given those already found (so reparented ones stay found). */
  members(snapshot: ProcessSnapshot, known: ReadonlyMap<number, number>): Members;
  /**
   * Called once every member is stopped (or, in the group stopped at once, has its stop pending), right after the kill is sent and in the same turn of the event
   * loop, so before any member's end can be heard (the engine marks a watched root as being stopped, and
   * reads its end as asked for). Not before the kill: the engine ends the root at once, and a reaped root
   * no longer holds its group's id, so the kill would have to go to each member alone.
   */
  onStopped?(members: ReadonlyMap<number, number>): void;
}

export interface ContainResult {
  /** Processes signalled: every member found. */
  reached: number;
  /** Members still alive at the end (0 when contained). */
  survivors: number;
  /** Members the signaller refused (other users', protected). */
  refused: number;
  /** From the start (the look that found the bomb, when given) to the last check, ms. */
  durationMs: number;
  /** From the same start until every member was stopped, ms. */
  stoppedAfterMs: number;
  /** From the same start until the first stop signal went out, ms. */
  firstStopAfterMs: number;
}

/** Rounds of stop-and-look before killing whatever is found (a bomb in uninterruptible sleep may not stop at once). */
const MAX_STOP_ROUNDS = 30;
/** Time for a stop or a kill to take effect before the next look, ms. */
export const SETTLE_MS = 5;
/** How long to keep killing and looking before giving up on survivors, ms. */
export const VERIFY_TIMEOUT_MS = 2000;
const STOPPED_STATES = new Set(["T", "t"]);
const GONE_STATES = new Set(["Z", "X", "x"]);

/** Where a containment starts from. */
export interface ContainFrom {
  /** Members already known from earlier looks (reparented ones among them). */
  known?: ReadonlyMap<number, number>;
  /** The snapshot the bomb was found in, taken just now: the first stops go out without another scan of the table. */
  snapshot?: ProcessSnapshot;
  /** When the look that found the bomb began (deps.now()'s clock): the durations reported count from it. */
  lookStartedMs?: number;
  /**
   * The root's group was stopped (holdGroup) before `snapshot` was taken: that snapshot is the look
   * after the stop, so the kill follows it at once when no member outside the group is left running.
   */
  groupHeld?: boolean;
  /** When the first stop went out (deps.now()'s clock), when it went out before this call (holdGroup). */
  firstStopMs?: number;
}

// Stop, kill and verify; resolves with what was reached and whether anything survived.
export async function containTree(target: ContainTarget, deps: ContainDeps, from: ContainFrom = {}): Promise<ContainResult> {
  const start = from.lookStartedMs ?? deps.now();
  const known: Members = new Map(from.known);
  const refused = new Set<number>();
  let firstStopMs = from.firstStopMs;
  const send = (pid: number, signal: NodeJS.Signals): void => {
    if (refused.has(pid)) return;
    if (signal === "SIGSTOP") firstStopMs ??= deps.now();
    try {
      deps.signaller.kill(pid, signal, known.get(pid));
    } catch {
      refused.add(pid);
    }
  };
  // The root's whole group at once, when its whole session is members; the pgid reached, or null when not sent.
  const sendGroup = (snapshot: ProcessSnapshot, members: ReadonlyMap<number, number>, signal: NodeJS.Signals): number | null => {
    const root = target.root;
    if (!root || !deps.signaller.killGroup || !sessionIsMembers(snapshot, root.pid, members)) return null;
    if (signal === "SIGSTOP") firstStopMs ??= deps.now();
    try {
      return deps.signaller.killGroup(snapshot, root.pid, root.startTicks, signal) ? root.pid : null;
    } catch {
      // Refused (a process of the session is protected): each member is judged on its own instead.
      return null;
    }
  };

  // Stop everything found; look again; stop newcomers and any member not yet stopped. A member of
  // the group just stopped is not waited for: it runs no more of its own code once the signal is
  // pending, and a child it is forking meanwhile gets the signal too (the kernel hands a signal sent
  // to a group during a fork to the new child), so it cannot fork past the stop. One look, taken at
  // once while its members still hold their place in the tree, finds members outside the group.
  let snapshot = from.snapshot ?? deps.rescan();
  for (let round = 0; round < MAX_STOP_ROUNDS; round++) {
    let pending = 0;
    const members = target.members(snapshot, known);
    const group = sendGroup(snapshot, members, "SIGSTOP");
    for (const [pid, startTicks] of members) {
      known.set(pid, startTicks);
      const sample = snapshot.processes.get(pid);
      const state = sample?.state ?? "X";
      if (STOPPED_STATES.has(state) || GONE_STATES.has(state) || refused.has(pid) || sample?.pgid === group) continue;
      send(pid, "SIGSTOP");
      pending++;
    }
    // After a group stop, one look: the snapshot given when the group was held before it, else a fresh one.
    if (pending === 0 && (group === null || round > 0 || from.groupHeld === true)) break;
    if (pending > 0) await deps.sleep(SETTLE_MS);
    snapshot = deps.rescan();
  }
  const stoppedAfterMs = deps.now() - start;

  // Kill every member, then look until none is left (a stopped process dies at SIGKILL).
  const deadline = deps.now() + VERIFY_TIMEOUT_MS;
  let survivors = alive(known, snapshot, refused);
  const group = sendGroup(snapshot, known, "SIGKILL");
  for (const pid of survivors) if (snapshot.processes.get(pid)?.pgid !== group) send(pid, "SIGKILL");
  target.onStopped?.(known);
  for (;;) {
    await deps.sleep(SETTLE_MS);
    snapshot = deps.rescan();
    // Anything forked before its parent stopped is found and killed too.
    for (const [pid, startTicks] of target.members(snapshot, known)) {
      if (!known.has(pid)) {
        known.set(pid, startTicks);
        send(pid, "SIGKILL");
      }
    }
    survivors = alive(known, snapshot, refused);
    if (survivors.length === 0 || deps.now() >= deadline) break;
    for (const pid of survivors) send(pid, "SIGKILL");
  }
  return { reached: known.size, survivors: survivors.length + refusedAlive(refused, known, snapshot), refused: refused.size, durationMs: deps.now() - start, stoppedAfterMs, firstStopAfterMs: (firstStopMs ?? deps.now()) - start };
}

/** A watched tree's group stopped ahead of the look that is to confirm it is a bomb (holdGroup). */
export interface HeldGroup {
  /** The root, which leads the group and its session. */
  pid: number;
  startTicks: number;
  /** Members the snapshot held in showed stopped already (by the user, a debugger): a release leaves them so. */
  stoppedBefore: ReadonlySet<number>;
}

// Stop the root's whole group at once, on a quick look (a peek) that shows its tree at a fork-bomb
// limit, before the full look that confirms it: a bomb then forks no more while the daemon scans the
// table (on a busy machine, the bomb's own forks are much of what the daemon waits behind). Only when
// the root leads its session and group and every process of that session is a member, and through the
// guard (killGroup), as any containment's group stop; null when not sent. The confirming look either
// goes on with the containment (containTree, groupHeld) or lets the group go again (releaseGroup).
export function holdGroup(signaller: Signaller, snapshot: ProcessSnapshot, root: { pid: number; startTicks: number }, members: ReadonlyMap<number, number>): HeldGroup | null {
  if (!signaller.killGroup) return null;
  const withRoot = new Map(members).set(root.pid, root.startTicks);
  if (!sessionIsMembers(snapshot, root.pid, withRoot)) return null;
  const stoppedBefore = new Set<number>();
  for (const sample of snapshot.processes.values()) if (sample.pgid === root.pid && STOPPED_STATES.has(sample.state)) stoppedBefore.add(sample.pid);
  try {
    return signaller.killGroup(snapshot, root.pid, root.startTicks, "SIGSTOP") ? { ...root, stoppedBefore } : null;
  } catch {
    // Refused (a process of the session is protected): the full look and its containment judge each member.
    return null;
  }
}

// The confirming look found no bomb: every process of the held group in `snapshot` runs again (SIGCONT
// to each, named by its start time), except those that were stopped before the hold. One by one rather
// than to the group, so that a process stopped by someone else is not woken by a guess that was wrong.
export function releaseGroup(signaller: Signaller, snapshot: ProcessSnapshot, held: HeldGroup): void {
  for (const sample of snapshot.processes.values()) {
    if (sample.pgid !== held.pid || held.stoppedBefore.has(sample.pid) || GONE_STATES.has(sample.state)) continue;
    if (sample.pid !== held.pid && sample.startTicks < held.startTicks) continue;
    try {
      signaller.kill(sample.pid, "SIGCONT", sample.startTicks);
    } catch {
      // Refused: the guard has said why; a process it protects was not stopped by the hold either.
    }
  }
}

// Whether every live process of the session `leader` leads (when it leads one) is a member, the leader included.
function sessionIsMembers(snapshot: ProcessSnapshot, leader: number, members: ReadonlyMap<number, number>): boolean {
  const root = snapshot.processes.get(leader);
  if (!root || root.sid !== leader || root.pgid !== leader) return false;
  for (const sample of snapshot.processes.values()) {
    if (sample.sid !== leader || GONE_STATES.has(sample.state)) continue;
    if (members.get(sample.pid) !== sample.startTicks) return false;
  }
  return true;
}

// Members still alive in the snapshot (same process, not a zombie), the refused ones left out.
function alive(known: ReadonlyMap<number, number>, snapshot: ProcessSnapshot, refused: ReadonlySet<number>): number[] {
  const pids: number[] = [];
  for (const [pid, startTicks] of known) {
    if (refused.has(pid)) continue;
    const sample = snapshot.processes.get(pid);
    if (sample && sample.startTicks === startTicks && !GONE_STATES.has(sample.state)) pids.push(pid);
  }
  return pids;
}

// Refused members that are still alive: they survive, and are counted as such.
function refusedAlive(refused: ReadonlySet<number>, known: ReadonlyMap<number, number>, snapshot: ProcessSnapshot): number {
  let count = 0;
  for (const pid of refused) {
    const sample = snapshot.processes.get(pid);
    if (sample && sample.startTicks === known.get(pid) && !GONE_STATES.has(sample.state)) count++;
  }
  return count;
}
