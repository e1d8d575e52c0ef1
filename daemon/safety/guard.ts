// The last word before any signal leaves the daemon: whatever a policy or a
// caller asks, PID 1, kernel threads, the daemon and its ancestors, the
// session's shell and bus, and other users' processes are never signalled.
import { statSync } from "node:fs";
import { readStatLine } from "../proc/statLine.js";

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

  // Why `pid` must not be signalled, or null when it may be.
  reasonToRefuse(pid: number): string | null {
    if (!Number.isInteger(pid) || pid <= 0) return "not a valid process id";
    if (pid === 1) return "it is PID 1 (init)";
    if (pid === process.pid) return "it is the selfheal daemon itself";
    if (this.ancestors.has(pid)) return "it is an ancestor of the selfheal daemon";
    const stat = readStatLine(this.procRoot, pid);
    if (stat === null) return "no such process";
    if (stat.kernelThread) return "it is a kernel thread";
    if (this.protectedNames.has(stat.comm)) return `it is ${stat.comm}, part of the desktop session`;
    let owner: number;
    try {
      owner = statSync(`${this.procRoot}/${pid}`).uid;
    } catch {
      return "no such process";
    }
    if (owner !== this.uid) return `it belongs to another user (uid ${owner})`;
    return null;
  }

  // Send `signal` to `pid`, or throw ProtectedError. A process that is already gone is not an error.
  kill(pid: number, signal: NodeJS.Signals): void {
    const reason = this.reasonToRefuse(pid);
    if (reason === "no such process") return;
    if (reason !== null) throw new ProtectedError(pid, reason);
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }

  isAncestor(pid: number): boolean {
    return this.ancestors.has(pid);
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
