// The last word before any signal leaves the daemon: whatever a policy or a
// caller asks, PID 1, kernel threads, the daemon, its ancestors and its own
// sentinel, the session's shell and bus, and other users' processes are never
// signalled.
// The same judgement, made on a scan's sample, keeps them out of adoption,
// tree sums and containment (refusalFor).
import type { ProcessSample, ProcessSnapshot } from "../proc/types.js";
import { readOwnedStatLine, readStatLine } from "../proc/statLine.js";
import { isSentinelProcess } from "../sentinel/name.js";

/** Programs of the desktop session itself, protected by name. */
export const SESSION_PROGRAMS = ["systemd", "gnome-shell", "dbus-daemon", "dbus-broker", "Xwayland", "gnome-session-b", "gnome-session"];

export class ProtectedError extends Error {
  constructor(
    readonly pid: number,
    readonly reason: string,
  ) {
    super(`refusing to signal PID ${pid}: ${reason}`);
    this.name = "ProtectedError";
  }
}

export interface GuardOptions {
  procRoot?: string;
  /** Extra program names (comm) never to signal. */
  protectedNames?: readonly string[];
  /** The uid whose processes may be signalled; defaults to the daemon's own. */
  uid?: number;
}

/** What the guard needs to know of a process to judge it. */
type Facts = Pick<ProcessSample, "pid" | "ppid" | "comm" | "kernelThread" | "sid" | "ttyNr" | "uid">;

const NO_SUCH_PROCESS = "no such process";

export class SignalGuard {
  private readonly procRoot: string;
  private readonly protectedNames: Set<string>;
  private readonly uid: number;
  private readonly ancestors: Set<number>;

  constructor(options: GuardOptions = {}) {
    this.procRoot = options.procRoot ?? "/proc";
    this.protectedNames = new Set([...SESSION_PROGRAMS, ...(options.protectedNames ?? [])]);
    this.uid = options.uid ?? process.getuid?.() ?? 0;
    // Ancestors cannot change while we live except by reparenting upward, so
    // collect them once; a new ancestor is impossible.
    this.ancestors = this.collectAncestors();
  }

  // Why `pid` must not be signalled, or null when it may be (read from /proc now).
  // With startTicks, a PID that names another process now (its start time differs) is as good as gone.
  reasonToRefuse(pid: number, startTicks?: number): string | null {
    if (!Number.isInteger(pid) || pid <= 0) return "not a valid process id";
    const stat = readOwnedStatLine(this.procRoot, pid);
    if (stat === null || (startTicks !== undefined && stat.startTicks !== startTicks)) return NO_SUCH_PROCESS;
    return this.judge({ pid, ...stat });
  }

  // Why the process of a scan's sample must never be adopted, counted in a tree or signalled; null when it may be.
  // Judged from the sample alone (no further reads), so it is cheap enough for every member of a tree.
  refusalFor(sample: ProcessSample): string | null {
    return this.judge(sample);
  }

  // Send `signal` to `pid`, or throw ProtectedError. A process that is already gone is not an error;
  // nor is one named by (pid, startTicks) whose PID another process holds now: that one is not signalled.
  kill(pid: number, signal: NodeJS.Signals, startTicks?: number): void {
    const reason = this.reasonToRefuse(pid, startTicks);
    if (reason === NO_SUCH_PROCESS) return;
    if (reason !== null) throw new ProtectedError(pid, reason);
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }

  // Send `signal` to the whole process group that `leader` (named by pid and start time) leads, in one
  // system call: for a fork bomb's hundreds of members, where one signal each costs the daemon hundreds
  // of preemptions on a busy machine. Only when the leader leads its session as well as its group, and
  // every live process of that session in `snapshot` (a scan taken just now) may be signalled: only a
  // process of the same session can join a group, so no process this gate has not judged can be reached.
  // Throws ProtectedError naming the first process refused; returns false, sending nothing, when the
  // leader is gone (or another process holds its PID) or no longer leads both.
  killGroup(snapshot: ProcessSnapshot, leader: number, leaderStartTicks: number, signal: NodeJS.Signals): boolean {
    const sampled = snapshot.processes.get(leader);
    if (!sampled || sampled.startTicks !== leaderStartTicks || sampled.sid !== leader || sampled.pgid !== leader) return false;
    for (const sample of snapshot.processes.values()) {
      if (sample.sid !== leader || sample.state === "Z") continue;
      const reason = this.judge(sample);
      if (reason !== null) throw new ProtectedError(sample.pid, reason);
    }
    // The leader read now: still the same process, leading both, and not protected. It may have
    // just ended (a zombie): until it is reaped it holds its PID, so its group's id is no other's.
    const now = readOwnedStatLine(this.procRoot, leader);
    if (now === null || now.startTicks !== leaderStartTicks || now.sid !== leader || now.pgid !== leader || now.state === "X") return false;
    const reason = this.judge({ pid: leader, ...now });
    if (reason !== null) throw new ProtectedError(leader, reason);
    try {
      process.kill(-leader, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      return false;
    }
    return true;
  }

  isAncestor(pid: number): boolean {
    return this.ancestors.has(pid);
  }

  // The rules, in the order a person would ask them.
  private judge(facts: Facts): string | null {
    const { pid } = facts;
    if (!Number.isInteger(pid) || pid <= 0) return "not a valid process id";
    if (pid === 1) return "it is PID 1 (init)";
    if (pid === process.pid) return "it is the selfheal daemon itself";
    if (this.ancestors.has(pid)) return "it is an ancestor of the selfheal daemon";
    // Young and in the daemon's own session, it could be taken for part of a fork bomb there.
    if (facts.ppid === process.pid && isSentinelProcess(facts)) return "it is the selfheal daemon's sentinel";
    if (facts.kernelThread) return "it is a kernel thread";
    if (this.protectedNames.has(facts.comm)) return `it is ${facts.comm}, part of the desktop session`;
    if (facts.uid !== this.uid) return `it belongs to another user (uid ${facts.uid})`;
    // A session leader with a controlling terminal is a login or terminal shell (or
    // the display manager's session program): ending it ends everything the user runs there.
    if (facts.sid === pid && facts.ttyNr !== 0) return `it is ${facts.comm}, which leads a terminal session (a login or terminal shell)`;
    return null;
  }

  private collectAncestors(): Set<number> {
    const found = new Set<number>();
    let pid = process.ppid;
    while (pid > 0 && !found.has(pid)) {
      found.add(pid);
      const stat = readStatLine(this.procRoot, pid);
      if (stat === null) break;
      pid = stat.ppid;
    }
    return found;
  }
}
