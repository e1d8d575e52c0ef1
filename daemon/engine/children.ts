// What the engine hears from a program it started (through a keeper, or as
// the daemon's own child): its end, a fork it followed, a keeper lost. A
// program whose first process forks the real one and exits 0 is followed, not
// started again: a keeper follows the fork itself (it is a child subreaper, so
// what the program leaves behind becomes its child, and that process's end is
// known in turn); without a keeper, the daemon looks for a process left in the
// program's session and watches it by PID (its end is then not known).
import type { ChildHandle } from "../supervise/spawner.js";
import { classifyExit } from "../supervise/exit.js";
import { isKeeperProcess } from "../keeper/name.js";
import { currentProcesses } from "./adoption.js";
import { guarded, type EngineContext } from "./context.js";
import type { Lifecycle } from "./lifecycle.js";
import type { Unit } from "./unit.js";

/** The process the program forked away to. */
interface Successor {
  pid: number;
  /** -1 when not known yet (the next scan tells). */
  startTicks: number;
  /** Its end will be known: a keeper holds it. */
  known: boolean;
}

// Listen to the program `child` runs for `unit`: from now on it is the unit's program.
export function superviseChild(ctx: EngineContext, lifecycle: Lifecycle, unit: Unit, child: ChildHandle): void {
  const name = unit.policy.name;
  unit.child = child;
  // A policy removed meanwhile let its program go, and a newer program replaces this one: neither is acted on.
  const ours = (): boolean => ctx.units.get(name) === unit && unit.child === child;
  // Each listener's fault is told (an internal-error event), never thrown into the spawner.
  child.onFollow?.((pid, startTicks) =>
    guarded(ctx, `following ${name} to PID ${pid}`, () => {
      if (ours()) follow(ctx, lifecycle, unit, { pid, startTicks, known: true });
    })(),
  );
  child.onLost?.((reason) =>
    guarded(ctx, `handling the lost keeper of ${name}`, () => {
      if (!ours()) return;
      unit.child = null;
      unit.managed = false;
      ctx.emit({
        kind: "adopted",
        timeMs: ctx.deps.clock.now(),
        name,
        pid: unit.pid,
        message: `${name} (PID ${unit.pid}) is watched by PID from now on: ${reason}, so its exit status will not be known`,
      });
    })(),
  );
  // Last: an end read together with a fork (a keeper's record) is told after it.
  child.onExit((code, signal, details) =>
    guarded(ctx, `handling the end of ${name} (PID ${child.pid})`, () => {
      // Not acted on: nothing more is heard of it (a keeper's record of the end is dropped).
      if (!ours()) return child.release?.();
      const exitedClean = code === 0 && signal === null;
      if (exitedClean && child.keeperPid === undefined) {
        const successor = sessionSuccessor(ctx, child.pid);
        if (successor !== null) {
          unit.child = null;
          return follow(ctx, lifecycle, unit, successor);
        }
      }
      lifecycle.onEnded(unit, classifyExit(code, signal, details));
    })(),
  );
}

// The program forked away: watch the process it left instead, and say so. A stop under way goes on with it.
function follow(ctx: EngineContext, lifecycle: Lifecycle, unit: Unit, next: Successor): void {
  const oldPid = unit.pid;
  const name = unit.policy.name;
  unit.pid = next.pid;
  unit.startTicks = next.startTicks;
  unit.managed = next.known;
  unit.sustain.reset();
  unit.scansSeen = 0;
  ctx.emit({
    kind: "followed",
    timeMs: ctx.deps.clock.now(),
    name,
    oldPid,
    newPid: next.pid,
    managed: next.known,
    message: `${name}: followed PID ${next.pid}, the program forked away (PID ${oldPid} exited 0)${next.known ? "" : "; selfheal is not its parent, so its exit status will not be known"}`,
  });
  if (unit.stopping) lifecycle.continueStop(unit);
}

// Without a keeper: the oldest live process left in the session the program led (it was started as a
// session's leader), never one the guard protects. A fault in this look is told, and the end is handled as an end.
function sessionSuccessor(ctx: EngineContext, leader: number): Successor | null {
  try {
    const members = [...currentProcesses(ctx).processes.values()]
      .filter((sample) => sample.sid === leader && sample.pid !== leader && sample.uid === ctx.uid && sample.state !== "Z" && !isKeeperProcess(sample))
      .sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
    const found = members.find((sample) => ctx.deps.signaller.refusalFor(sample) === null && ctx.deps.probe.isAlive(sample.pid, sample.startTicks));
    return found === undefined ? null : { pid: found.pid, startTicks: found.startTicks, known: false };
  } catch (error) {
    ctx.internalError(`looking for what PID ${leader} left running`, error);
    return null;
  }
}
