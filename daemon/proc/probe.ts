// A cheap look at one process between scans: is (pid, start time) still
// alive? Used while waiting for an adopted process to stop; and whether any
// process has a PID at all (signal 0), for the sentinel of adopted ends.
import { closeSync, openSync, readSync } from "node:fs";
import { readStatLine } from "./statLine.js";

export interface ProcessProbe {
  /** True while the process that started at startTicks still runs (zombies count as gone). */
  isAlive(pid: number, startTicks: number): boolean;
  /** Resident memory in bytes, or null when the process is gone. */
  rssBytes(pid: number): number | null;
  /** False only when no process (zombies included) has this PID. */
  exists(pid: number): boolean;
}

const STATM_BYTES = 128;

export class ProcProbe implements ProcessProbe {
  private readonly buffer = Buffer.alloc(STATM_BYTES);

  constructor(
    private readonly procRoot = "/proc",
    private readonly pageSize = 4096,
  ) {}

  // statm's second field is the resident set in pages: one small read, cheap enough to run between scans.
  rssBytes(pid: number): number | null {
    let fd: number;
    try {
      fd = openSync(`${this.procRoot}/${pid}/statm`, "r");
    } catch {
      return null;
    }
    try {
      const length = readSync(fd, this.buffer, 0, STATM_BYTES, 0);
      const text = this.buffer.toString("latin1", 0, length);
      const resident = Number(text.split(" ")[1]);
      return Number.isFinite(resident) ? resident * this.pageSize : null;
    } catch {
      return null;
    } finally {
      closeSync(fd);
    }
  }

  isAlive(pid: number, startTicks: number): boolean {
    const stat = readStatLine(this.procRoot, pid);
    return stat !== null && stat.state !== "Z" && stat.state !== "X" && stat.startTicks === startTicks;
  }

  // Signal 0 checks without signalling: one system call, far cheaper than reading stat (ESRCH: nobody has this PID).
  exists(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== "ESRCH";
    }
  }

}
