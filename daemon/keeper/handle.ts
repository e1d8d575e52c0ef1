// One keeper as the daemon sees it: the record the keeper keeps of its
// program, read again whenever it may have changed (the folder's watcher,
// the keeper's exit, a scan that saw the program gone), and turned into what
// the engine listens for: the program's end, a fork it followed, a lost keeper.
import { readFileSync, rmSync } from "node:fs";
import type { ProcessProbe } from "../proc/probe.js";
import type { ExitDetails } from "../supervise/exit.js";
import type { ChildHandle, ExitListener } from "../supervise/spawner.js";
import { parseRecord, type KeeperRecord, type ProcessId } from "./record.js";

export interface KeeperHandleDeps {
  probe: Pick<ProcessProbe, "isAlive">;
  /** When this daemon started (ms since the epoch): an end before it happened while no daemon ran. */
  daemonStartMs: number;
  /** Called once the record is done with (its end was told, or the keeper is gone). */
  forget(handle: KeeperHandle): void;
}

type FollowListener = (pid: number, startTicks: number, fromPid: number) => void;
type LostListener = (reason: string) => void;

export class KeeperHandle implements ChildHandle {
  pid: number;
  startTicks: number;
  readonly keeperPid: number;
  private readonly keeperStartTicks: number;
  private exitListener: ExitListener | null = null;
  private followListener: FollowListener | null = null;
  private lostListener: LostListener | null = null;
  /** What was read before anyone listened (a fork followed, an end, a loss): told to the first listener. */
  private pendingFollow: Parameters<FollowListener> | null = null;
  private pendingExit: Parameters<ExitListener> | null = null;
  private pendingLost: string | null = null;
  /** The end or the loss was read: the record is done with. */
  private done = false;
  private released = false;

  // `program` is the process the keeper started, as it reported it; the record may already name a process it forked away to.
  constructor(
    private readonly deps: KeeperHandleDeps,
    /** The record file's full path. */
    readonly file: string,
    record: KeeperRecord,
    program: ProcessId = record.program,
  ) {
    this.pid = program.pid;
    this.startTicks = program.startTicks;
    this.keeperPid = record.keeper.pid;
    this.keeperStartTicks = record.keeper.startTicks;
    this.apply(record);
  }

  onExit(listener: ExitListener): void {
    this.exitListener = listener;
    const pending = this.pendingExit;
    if (pending === null) return;
    this.pendingExit = null;
    this.deliverExit(pending);
  }

  // Listen for forks followed; listen before onExit, so that a fork and an end read together are told in that order.
  onFollow(listener: FollowListener): void {
    this.followListener = listener;
    const pending = this.pendingFollow;
    if (pending === null) return;
    this.pendingFollow = null;
    this.pid = pending[0];
    this.startTicks = pending[1];
    listener(...pending);
  }

  onLost(listener: LostListener): void {
    this.lostListener = listener;
    const pending = this.pendingLost;
    if (pending === null) return;
    this.pendingLost = null;
    listener(pending);
  }

  // Read the record again; a keeper gone without an end means the end is lost.
  check(): void {
    if (this.done) return;
    const record = this.read();
    if (record !== null) this.apply(record);
    if (this.done || this.deps.probe.isAlive(this.keeperPid, this.keeperStartTicks)) return;
    // It may have written its end just before it went: one more look, then give up.
    const last = this.read();
    if (last !== null) this.apply(last);
    if (!this.done) this.lose(`its keeper (PID ${this.keeperPid}) ended without recording the program's end`);
  }

  // The daemon no longer acts on this program; an end already recorded is dropped, a running program keeps its record.
  release(): void {
    this.released = true;
    this.exitListener = null;
    this.followListener = null;
    this.lostListener = null;
    if (this.done) this.remove();
  }

  get isReleased(): boolean {
    return this.released;
  }

  private read(): KeeperRecord | null {
    try {
      return parseRecord(readFileSync(this.file, "utf8"));
    } catch {
      return null;
    }
  }

  // Tell what the record says beyond what was told: a new program (a followed fork), its end.
  private apply(record: KeeperRecord): void {
    if (this.done) return;
    const { program } = record;
    if (program.pid !== this.pid || program.startTicks !== this.startTicks) {
      const fromPid = this.pid;
      if (this.followListener === null && !this.released) {
        // Nobody listens yet: the handle still names the process started (as its start is told), the fork comes with the first listener.
        this.pendingFollow = [program.pid, program.startTicks, fromPid];
      } else {
        this.pid = program.pid;
        this.startTicks = program.startTicks;
        if (!this.released) this.followListener?.(program.pid, program.startTicks, fromPid);
      }
    }
    const end = record.end;
    if (end === null) return;
    this.done = true;
    const details: ExitDetails = { coreDumped: end.coreDumped, endedAtMs: end.atMs, whileAway: end.atMs < this.deps.daemonStartMs };
    if (this.released) return this.remove();
    if (this.exitListener === null) this.pendingExit = [end.code, end.signal, details];
    else this.deliverExit([end.code, end.signal, details]);
  }

  // Tell the end. The record stays until the daemon releases the handle: once it has acted on the end (a restart
  // handed to a keeper, or none to come), so that a daemon killed before that reads the end again.
  private deliverExit(args: Parameters<ExitListener>): void {
    this.exitListener?.(...args);
  }

  private lose(reason: string): void {
    this.done = true;
    this.remove();
    if (this.released) return;
    if (this.lostListener === null) this.pendingLost = reason;
    else this.lostListener(reason);
  }

  private remove(): void {
    rmSync(this.file, { force: true });
    this.deps.forget(this);
  }
}
