// Adoption: a policy's program that runs without us (started by the user or
// before the daemon) is found in a scan and watched by PID; and before any
// start, a fresh look makes sure no copy the policy matches runs already.
// Processes the guard protects are never adopted: a policy whose match names
// only such processes is told once and adopts nothing (or the next match that
// may be). Keepers are never adopted either (their argv carries the program's).
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";
import { findMatching } from "../proc/match.js";
import { isKeeperProcess, keeperOf } from "../keeper/name.js";
import { isSentinelProcess } from "../sentinel/name.js";
import type { EngineContext } from "./context.js";
import { clearProcess, identityOf, type Unit } from "./unit.js";

const ZOMBIE_STATE = "Z";

// Only a unit with nothing running and no start under way looks for a process to adopt.
export function mayAdopt(unit: Unit): boolean {
  return !unit.starting && (unit.state === "stopped" || unit.state === "exited" || unit.state === "crashed");
}

// The pids already watched by a unit: one process is never adopted twice.
export function claimedPids(units: ReadonlyMap<string, Unit>): Set<number> {
  const claimed = new Set<number>();
  for (const unit of units.values()) if (unit.pid !== 0) claimed.add(unit.pid);
  return claimed;
}

// Why the unit must leave this process alone, or null when it may adopt it.
export function refusalOf(ctx: EngineContext, unit: Unit, sample: ProcessSample): string | null {
  if (unit.refused.has(identityOf(sample.pid, sample.startTicks))) return "the guard refused to signal it";
  return ctx.deps.signaller.refusalFor(sample);
}

// Adopt an instance of the policy's program that runs without us (started by the user or before the daemon).
// `confirmAlive` for a peek's table, whose samples carried from the last scan may have ended since.
export function tryAdopt(ctx: EngineContext, unit: Unit, snapshot: ProcessSnapshot, claimed: Set<number>, confirmAlive = false): void {
  const matches = unclaimedMatches(ctx, unit, snapshot, claimed);
  const candidates = confirmAlive ? matches.filter((sample) => ctx.deps.probe.isAlive(sample.pid, sample.startTicks)) : matches;
  const refused: Array<{ sample: ProcessSample; reason: string }> = [];
  const found = candidates.find((sample) => {
    const reason = refusalOf(ctx, unit, sample);
    if (reason !== null) refused.push({ sample, reason });
    return reason === null;
  });
  if (!found) {
    const first = refused[0];
    if (first) reportProtectedMatch(ctx, unit, first.sample.pid, first.reason, refused.length - 1);
    return;
  }
  claimed.add(found.pid);
  watchAdopted(ctx, unit, found, "was already running and is now watched; selfheal did not start it, so its exit status will not be known");
}

// Learn the executable and argv of each process of ours that has lived through a scan (the source
// keeps them for the process's life). The look for a running copy before every start reads them for
// every process a policy may match; with every program running no scan needs them, so a crash read the
// whole table at once (22 ms for 160 processes on a loaded machine, 1 ms once known). Now it reads only
// processes younger than a scan; short-lived processes are never read. At the first scan, those
// older than an interval count as having lived through one: without them, the first look after the
// daemon's start (a policy added, with scans 10 s apart) read every process of the user: the look
// and its event took 13 to 92 ms for 190 processes here (load 9), 4 to 6 ms with them known.
export function learnIdentities(ctx: EngineContext, snapshot: ProcessSnapshot, previous: ProcessSnapshot | null, intervalMs: number): void {
  const livedThroughOne = (sample: ProcessSample): boolean =>
    previous === null ? snapshot.timeMs - sample.startTimeMs >= intervalMs : previous.processes.has(sample.pid);
  for (const sample of snapshot.processes.values()) {
    if (sample.uid !== ctx.uid || sample.state === ZOMBIE_STATE || sample.kernelThread || !livedThroughOne(sample)) continue;
    ctx.deps.source.readExeName(sample.pid);
    ctx.deps.source.readCmdline(sample.pid);
  }
}

// The processes the policy matches that no unit watches, oldest first: never the daemon, nor a keeper,
// nor a program held by another daemon's keeper.
function unclaimedMatches(ctx: EngineContext, unit: Unit, snapshot: ProcessSnapshot, claimed: Set<number>): ProcessSample[] {
  return findMatching(unit.policy.match, snapshot, ctx.deps.source, { uid: ctx.uid }).filter(
    (sample) => !claimed.has(sample.pid) && sample.pid !== ctx.deps.source.selfPid && !isKeeperProcess(sample) && !isSentinelProcess(sample) && !heldByAnotherDaemon(ctx, sample, snapshot),
  );
}

// A program whose keeper keeps its records in another folder than this daemon's: another selfheal
// daemon's own (a second one of this user, with another runtime folder), not ours to take.
function heldByAnotherDaemon(ctx: EngineContext, sample: ProcessSample, snapshot: ProcessSnapshot): boolean {
  const ours = ctx.deps.spawner.recordsFolder;
  const keeper = keeperOf(sample, snapshot);
  if (ours === undefined || keeper === null) return false;
  const folder = ctx.deps.source.readCmdline(keeper.pid)?.[1];
  return folder !== undefined && folder !== ours;
}

// The process table now, for a decision that cannot wait for the next scan (a start, a fork to follow):
// what is new since the scan is read afresh, since a peek may have read it before its setsid or exec.
export function currentProcesses(ctx: EngineContext): ProcessSnapshot {
  return ctx.deps.source.peek?.("new") ?? ctx.deps.source.scan();
}

// Before a start: a copy the policy matches already runs (started by hand, or
// one the program forked away to)? `endedPid` is the unit's process that just
// ended (it may linger as a zombie); what is left of the session it led
// (helpers about to go, a fork bomb's members being killed) is its remains,
// not a copy. A process the guard protects is never one to watch. A fault in
// this look must not keep the program down: it is told, and the start goes on.
export function findRunningCopy(ctx: EngineContext, unit: Unit, endedPid: number): ProcessSample | null {
  try {
    const snapshot = currentProcesses(ctx);
    const found = unclaimedMatches(ctx, unit, snapshot, claimedPids(ctx.units)).find(
      (sample) =>
        sample.pid !== endedPid &&
        (endedPid === 0 || sample.sid !== endedPid) &&
        refusalOf(ctx, unit, sample) === null &&
        ctx.deps.probe.isAlive(sample.pid, sample.startTicks),
    );
    return found ?? null;
  } catch (error) {
    ctx.internalError(`looking for a running copy of ${unit.policy.name}`, error);
    return null;
  }
}

// Watch a running copy instead of starting a second one.
export function adoptCopy(ctx: EngineContext, unit: Unit, copy: ProcessSample): void {
  watchAdopted(ctx, unit, copy, "is already running: watched instead of starting a second copy; selfheal did not start it, so its exit status will not be known");
}

// Adopt a running copy if there is one; true when there was.
export function adoptRunningCopy(ctx: EngineContext, unit: Unit, endedPid: number): boolean {
  const copy = findRunningCopy(ctx, unit, endedPid);
  if (copy !== null) adoptCopy(ctx, unit, copy);
  return copy !== null;
}

// Watch `found` as the unit's program, by PID (its end is seen by the scans; its status is not known).
function watchAdopted(ctx: EngineContext, unit: Unit, found: ProcessSample, why: string): void {
  unit.pid = found.pid;
  unit.startTicks = found.startTicks;
  unit.managed = false;
  unit.child = null;
  unit.startedAtMs = found.startTimeMs;
  unit.state = "running";
  unit.usage = { cpuPercent: found.cpuPercent, rssBytes: found.rssBytes };
  unit.protectedMatch = "";
  ctx.emit({ kind: "adopted", timeMs: ctx.deps.clock.now(), name: unit.policy.name, pid: found.pid, message: `${unit.policy.name} (PID ${found.pid}) ${why}` });
}

// A watched process the guard now protects (it exec'd a session program, or a signal to it was refused): stop watching it.
export function letGo(ctx: EngineContext, unit: Unit, reason: string): void {
  const pid = unit.pid;
  unit.refused.add(identityOf(pid, unit.startTicks));
  clearProcess(unit);
  unit.state = "stopped";
  unit.protectedMatch = `PID ${pid}: ${reason}`;
  unit.protectedReported = true;
  ctx.emit({
    kind: "protected-match",
    timeMs: ctx.deps.clock.now(),
    name: unit.policy.name,
    pid,
    reason,
    message: `${unit.policy.name} (PID ${pid}) is a process selfheal never touches (${reason}): it is no longer watched`,
  });
}

// The match names only protected processes: keep why for the status, and tell it once per policy.
function reportProtectedMatch(ctx: EngineContext, unit: Unit, pid: number, reason: string, more: number): void {
  unit.protectedMatch = `PID ${pid}: ${reason}${more > 0 ? ` (and ${more} more protected)` : ""}`;
  if (unit.protectedReported) return;
  unit.protectedReported = true;
  ctx.emit({
    kind: "protected-match",
    timeMs: ctx.deps.clock.now(),
    name: unit.policy.name,
    pid,
    reason,
    message: `${unit.policy.name}: its match ${JSON.stringify(unit.policy.match)} names only processes selfheal never touches (${unit.protectedMatch}); none is adopted`,
  });
}
