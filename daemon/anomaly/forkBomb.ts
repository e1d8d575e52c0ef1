// Fork bombs: a watched tree with too many live descendants, or too many new
// ones per second. Pure functions over snapshots, plus the small memory of
// which processes belonged to a tree in earlier scans.
//
// Who belongs to a tree. A bomb's members often lose their parent mid-attack
// (a parent exits, its children are reparented to init or a subreaper), so
// "descendants of the root" in one scan is not enough. A member is any of:
//   1. a descendant of the root in this scan;
//   2. a process that was a member in an earlier scan and is still the same
//      process (pid and start time), and its descendants: the scan history
//      keeps a reparented child in the tree, and through it its own children;
//   3. when the root leads its own session (selfheal starts every program
//      with setsid) or its own process group: every process of that session or
//      group. These ids survive reparenting, so this catches a child forked
//      and orphaned between two scans, which the history never saw.
// History alone misses what lives and loses its parent between two scans;
// session and group alone miss members that called setsid; together they
// leave out only a process that does both within one scan interval. A session
// or group that the root does not lead is shared with unrelated programs (a
// terminal's, the desktop's), so it is never used.
//
// Whatever the rule that finds it, a process is never a member when it
// started before the root (it cannot be the root's doing: a root that took
// over an older session or group does not take its programs with it), or
// when the signal guard protects it (it is then neither counted nor reached,
// and what runs below it is not walked into: a shell's programs are the shell's).
import type { ForkBombSettings } from "../config/policy.js";
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";
import { descendantsOf } from "../proc/tree.js";

/** pid → start time in clock ticks: names each process for good. */
export type Members = Map<number, number>;

/** Why the guard protects a process (null when it does not): such a process is never a member. */
export type Protects = (sample: ProcessSample) => string | null;

/** A spawn rate is only judged on at least this many new members (a short interval must not turn 3 into 100/s). */
export const MIN_NEW_FOR_RATE = 10;
const MS_PER_SEC = 1000;
const ZOMBIE = "Z";

export interface ForkBombVerdict {
  descendants: number;
  /** New members per second since the previous scan. */
  spawnRate: number;
  /** Which threshold was crossed. */
  reason: "descendants" | "spawn-rate";
}

// True while a sample is a live, user-space process (zombies cannot fork; kernel threads are not ours).
function isLive(sample: ProcessSample | undefined): sample is ProcessSample {
  return sample !== undefined && sample.state !== ZOMBIE && !sample.kernelThread;
}

// Every member of root's tree in this snapshot (see the comment at the top), the root excluded.
// rootStartTicks names the root when it is gone from the snapshot (its members may outlive it).
export function collectMembers(
  snapshot: ProcessSnapshot,
  rootPid: number,
  known: ReadonlyMap<number, number> = new Map(),
  protects: Protects = () => null,
  rootStartTicks = snapshot.processes.get(rootPid)?.startTicks,
): Members {
  const members: Members = new Map();
  const add = (pid: number): void => {
    const sample = snapshot.processes.get(pid);
    if (pid === rootPid || !isLive(sample)) return;
    if (rootStartTicks !== undefined && sample.startTicks < rootStartTicks) return;
    if (protects(sample) !== null) return;
    members.set(pid, sample.startTicks);
  };
  const seeds = [rootPid];
  for (const [pid, startTicks] of known) {
    if (snapshot.processes.get(pid)?.startTicks === startTicks) seeds.push(pid);
  }
  // Below a protected process is its own (a shell's programs are the shell's): not walked into.
  const admit = (sample: ProcessSample): boolean => protects(sample) === null;
  for (const seed of seeds) {
    add(seed);
    for (const pid of descendantsOf(snapshot, seed, admit)) add(pid);
  }
  const root = snapshot.processes.get(rootPid);
  const bySession = root?.sid === rootPid ? leaderIndex(snapshot).bySession.get(rootPid) : undefined;
  const byGroup = root?.pgid === rootPid ? leaderIndex(snapshot).byGroup.get(rootPid) : undefined;
  const walkLed = (pid: number): void => {
    add(pid);
    for (const descendant of descendantsOf(snapshot, pid, admit)) add(descendant);
  };
  // Each led process once: the group's members that share the session were walked with it.
  if (bySession !== undefined) for (const pid of bySession) walkLed(pid);
  if (byGroup !== undefined) for (const pid of byGroup) if (bySession === undefined || snapshot.processes.get(pid)?.sid !== rootPid) walkLed(pid);
  return members;
}

/**
 * Each snapshot's processes by session and by process group, built once per snapshot (one pass, not one
 * per watched tree). A leader is left out of its own session's or group's list: it is only ever looked up
 * as a root, which is walked from already (a process that leads its own session is in no other's).
 */
interface LeaderIndex {
  bySession: Map<number, number[]>;
  byGroup: Map<number, number[]>;
}

const leaderIndexes = new WeakMap<ProcessSnapshot, LeaderIndex>();

// The session and group index of a snapshot, made on first need.
function leaderIndex(snapshot: ProcessSnapshot): LeaderIndex {
  let index = leaderIndexes.get(snapshot);
  if (index !== undefined) return index;
  index = { bySession: new Map(), byGroup: new Map() };
  const push = (map: Map<number, number[]>, key: number, pid: number): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [pid]);
    else list.push(pid);
  };
  for (const sample of snapshot.processes.values()) {
    if (sample.sid !== sample.pid) push(index.bySession, sample.sid, sample.pid);
    if (sample.pgid !== sample.pid) push(index.byGroup, sample.pgid, sample.pid);
  }
  leaderIndexes.set(snapshot, index);
  return index;
}

// How many of `now` are not in `before` (the same pid with the same start time).
export function countNew(now: ReadonlyMap<number, number>, before: ReadonlyMap<number, number>): number {
  let fresh = 0;
  for (const [pid, startTicks] of now) if (before.get(pid) !== startTicks) fresh++;
  return fresh;
}

// Whether a tree of `descendants` members, `fresh` of them new within elapsedMs, crossed a threshold.
export function judgeTree(descendants: number, fresh: number, elapsedMs: number | null, settings: ForkBombSettings): ForkBombVerdict | null {
  const spawnRate = elapsedMs === null || elapsedMs <= 0 ? 0 : (fresh * MS_PER_SEC) / elapsedMs;
  if (descendants >= settings.maxDescendants) return { descendants, spawnRate, reason: "descendants" };
  if (settings.maxSpawnRate > 0 && fresh >= MIN_NEW_FOR_RATE && spawnRate >= settings.maxSpawnRate) {
    return { descendants, spawnRate, reason: "spawn-rate" };
  }
  return null;
}

/** One watched tree's memory between scans. */
interface TreeState {
  members: Members;
  timeMs: number;
  /** The bomb was reported; quiet until the tree is back under its thresholds. */
  reported: boolean;
}

// Follows watched trees by key: their members scan after scan, and whether they are bombs.
export class ForkBombDetector {
  private readonly trees = new Map<string, TreeState>();

  // Judge key's tree (rooted at rootPid) in this snapshot; a verdict once per episode.
  observe(key: string, snapshot: ProcessSnapshot, rootPid: number, settings: ForkBombSettings, protects?: Protects): { verdict: ForkBombVerdict | null; members: Members } {
    const previous = this.trees.get(key);
    const members = collectMembers(snapshot, rootPid, previous?.members, protects);
    return { verdict: this.update(key, snapshot.timeMs, members, previous, settings), members };
  }

  // Judge a group of processes found by the caller (the global watch's young processes of one session).
  observeGroup(key: string, timeMs: number, members: Members, settings: ForkBombSettings): ForkBombVerdict | null {
    return this.update(key, timeMs, members, this.trees.get(key), settings);
  }

  // A look between scans (after a surge of forks): only the descendant count is
  // judged, since a rate over a tenth of a second would call a quick burst of a
  // few children a bomb; the scans' history and rate baseline are left as they were.
  peek(key: string, snapshot: ProcessSnapshot, rootPid: number, settings: ForkBombSettings, protects?: Protects): { verdict: ForkBombVerdict | null; members: Members } {
    const previous = this.trees.get(key);
    const members = collectMembers(snapshot, rootPid, previous?.members, protects);
    return { verdict: this.judgeBetweenScans(key, snapshot.timeMs, members, previous, settings), members };
  }

  // The same for a group found by the caller (the global watch's young processes of one session).
  peekGroup(key: string, timeMs: number, members: Members, settings: ForkBombSettings): ForkBombVerdict | null {
    return this.judgeBetweenScans(key, timeMs, members, this.trees.get(key), settings);
  }

  // Members remembered for key from the previous scan (empty when none).
  membersOf(key: string): Members {
    return this.trees.get(key)?.members ?? new Map();
  }

  forget(key: string): void {
    this.trees.delete(key);
  }

  // Drop every tree not observed at or after sinceMs.
  forgetUnseenSince(sinceMs: number): void {
    for (const [key, state] of this.trees) if (state.timeMs < sinceMs) this.trees.delete(key);
  }

  private judgeBetweenScans(key: string, timeMs: number, members: Members, previous: TreeState | undefined, settings: ForkBombSettings): ForkBombVerdict | null {
    const verdict = judgeTree(members.size, 0, null, settings);
    if (verdict === null || previous?.reported === true) return null;
    // Told once per episode: the next scan knows it was.
    if (previous) previous.reported = true;
    else this.trees.set(key, { members, timeMs, reported: true });
    return verdict;
  }

  private update(key: string, timeMs: number, members: Members, previous: TreeState | undefined, settings: ForkBombSettings): ForkBombVerdict | null {
    const fresh = previous ? countNew(members, previous.members) : 0;
    const verdict = judgeTree(members.size, fresh, previous ? timeMs - previous.timeMs : null, settings);
    const reported = previous?.reported ?? false;
    // In place when the tree was followed already (this runs for every watched tree at every scan).
    if (previous) {
      previous.members = members;
      previous.timeMs = timeMs;
      previous.reported = verdict !== null;
    } else {
      this.trees.set(key, { members, timeMs, reported: verdict !== null });
    }
    return verdict !== null && !reported ? verdict : null;
  }
}

/** Under the global watch, a process this young (ms) may be part of a bomb; older ones are the user's programs. */
export const YOUNG_MS = 30_000;

// The young live processes of each session: the global watch's candidate bombs.
// Processes of other users, kernel threads, excluded pids, what the guard
// protects and every process older than youngMs (the session's shell among
// them) are left out.
export function youngBySession(
  snapshot: ProcessSnapshot,
  uid: number,
  exclude: ReadonlySet<number>,
  youngMs = YOUNG_MS,
  protects: Protects = () => null,
): Map<number, Members> {
  const sessions = new Map<number, Members>();
  const since = snapshot.timeMs - youngMs;
  for (const sample of snapshot.processes.values()) {
    if (!isLive(sample) || sample.uid !== uid || exclude.has(sample.pid) || sample.startTimeMs < since) continue;
    if (protects(sample) !== null) continue;
    let members = sessions.get(sample.sid);
    if (!members) {
      members = new Map();
      sessions.set(sample.sid, members);
    }
    members.set(sample.pid, sample.startTicks);
  }
  return sessions;
}
