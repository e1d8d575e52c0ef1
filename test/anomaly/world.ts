// A small simulated process table for the fork-bomb tests: processes fork,
// exit and get reparented between scans; SIGSTOP stops them, SIGCONT lets
// them go on, SIGKILL ends them (and hands their children to PID 1), as the
// kernel would.
import type { Signaller } from "../../daemon/engine/engine.js";
import type { ProcessSample, ProcessSnapshot } from "../../daemon/proc/types.js";
import { sample } from "../helpers/fakes.js";

export class World implements Signaller {
  processes = new Map<number, ProcessSample>();
  /** Processes that fork one child on every scan while they run. */
  forkers = new Set<number>();
  /** Signals sent to one process each: [pid, signal]. */
  signals: Array<[number, string]> = [];
  /** Every signal that reached a process, sent to it alone or to its group, in order. */
  delivered: Array<[number, string]> = [];
  /** The start time each signal named its process by (undefined when it named none). */
  namedBy: Array<number | undefined> = [];
  /** For these pids, SIGSTOP takes effect at the next step, after one last fork (as a process caught mid-fork does). */
  lagStops = new Set<number>();
  /** Every pid ever forked, in order. */
  forked: number[] = [];
  private stopping = new Set<number>();
  /** Lagging processes whose stop came to their whole group: the child of their last fork starts stopped too (see step). */
  private stoppingByGroup = new Set<number>();
  /** Lagging processes sent SIGKILL: they still finish their fork, then die. */
  private dying = new Set<number>();
  /** pids the signaller refuses, as the SignalGuard refuses protected ones. */
  refuse = new Set<number>();
  time = 1_700_000_000_000;
  private nextPid = 1000;
  private nextTicks = 100_000;

  constructor() {
    this.add(1, { ppid: 0, comm: "init", sid: 1, pgid: 1 });
  }

  add(pid: number, fields: Partial<ProcessSample> = {}): ProcessSample {
    const process = sample(pid, { uid: 1000, startTicks: this.nextTicks++, startTimeMs: this.time, ...fields });
    this.processes.set(pid, process);
    return process;
  }

  // A child of parent, in its session and group.
  fork(parent: number, fields: Partial<ProcessSample> = {}): number {
    const from = this.processes.get(parent)!;
    const pid = this.nextPid++;
    this.add(pid, { ppid: parent, sid: from.sid, pgid: from.pgid, comm: from.comm, ...fields });
    this.forked.push(pid);
    return pid;
  }

  // A process ends: it is removed and its children go to PID 1, as after a real exit and reap.
  exit(pid: number): void {
    this.processes.delete(pid);
    this.stopping.delete(pid);
    this.forkers.delete(pid);
    for (const child of this.processes.values()) if (child.ppid === pid) this.processes.set(child.pid, { ...child, ppid: 1 });
  }

  // Let time pass: every running forker forks once.
  step(ms = 1000): void {
    this.time += ms;
    const stopping = [...this.stopping];
    this.stopping.clear();
    for (const pid of stopping) {
      const process = this.processes.get(pid);
      if (!process) continue;
      const child = this.fork(pid);
      // The kernel hands a signal sent to a group during a fork to the new child as well.
      if (this.stoppingByGroup.delete(pid)) this.processes.set(child, { ...this.processes.get(child)!, state: "T" });
      else this.forkers.add(child);
      if (this.dying.delete(pid)) this.exit(pid);
      else this.processes.set(pid, { ...process, state: "T" });
    }
    for (const pid of [...this.forkers]) {
      const process = this.processes.get(pid);
      if (process && process.state !== "T" && !this.stopping.has(pid)) this.forkers.add(this.fork(pid));
    }
  }

  scan(): ProcessSnapshot {
    const processes = new Map(this.processes);
    const children = new Map<number, number[]>();
    for (const process of processes.values()) children.set(process.ppid, [...(children.get(process.ppid) ?? []), process.pid]);
    return { timeMs: this.time, processes, childrenOf: (pid) => children.get(pid) ?? [] };
  }

  kill(pid: number, signal: NodeJS.Signals, startTicks?: number): void {
    if (this.refuse.has(pid)) throw new Error(`refusing to signal PID ${pid}: protected`);
    const process = this.processes.get(pid);
    // As the guard does: a PID that names another process now is not signalled.
    if (process && startTicks !== undefined && process.startTicks !== startTicks) return;
    this.signals.push([pid, signal]);
    this.namedBy.push(startTicks);
    this.delivered.push([pid, signal]);
    this.apply(pid, signal);
  }

  // What the kernel does with a signal that reached pid.
  private apply(pid: number, signal: NodeJS.Signals): void {
    const process = this.processes.get(pid);
    if (!process) return;
    if (signal === "SIGSTOP" && this.lagStops.delete(pid)) this.stopping.add(pid);
    else if (signal === "SIGSTOP") this.processes.set(pid, { ...process, state: "T" });
    if (signal === "SIGCONT" && process.state === "T") this.processes.set(pid, { ...process, state: "S" });
    if (signal === "SIGKILL" && this.stopping.has(pid)) this.dying.add(pid);
    else if (signal === "SIGKILL") this.exit(pid);
  }

  /** Signals sent to a whole process group in one call: [pgid, signal]. */
  groupSignals: Array<[number, string]> = [];

  // As the guard's killGroup: the leader must lead its session and group in the snapshot and now, and no process of
  // the session may be refused; then every process of the group (now, as the kernel sees it) gets the signal.
  killGroup(snapshot: ProcessSnapshot, leader: number, leaderStartTicks: number, signal: NodeJS.Signals): boolean {
    const sampled = snapshot.processes.get(leader);
    const now = this.processes.get(leader);
    for (const leads of [sampled, now]) {
      if (!leads || leads.startTicks !== leaderStartTicks || leads.sid !== leader || leads.pgid !== leader) return false;
    }
    for (const process of snapshot.processes.values()) {
      if (process.sid === leader && this.refuse.has(process.pid)) throw new Error(`refusing to signal PID ${process.pid}: protected`);
    }
    this.groupSignals.push([leader, signal]);
    for (const process of [...this.processes.values()]) {
      if (process.pgid !== leader) continue;
      this.delivered.push([process.pid, signal]);
      this.apply(process.pid, signal);
      if (signal === "SIGSTOP" && this.stopping.has(process.pid)) this.stoppingByGroup.add(process.pid);
    }
    return true;
  }

  alive(pid: number): boolean {
    return this.processes.has(pid);
  }
}
