// A cheap look at one process between scans: is (pid, start time) still
// alive? Used while waiting for an adopted process to stop.
import { closeSync, openSync, readFileSync, readSync } from "node:fs";

export interface ProcessProbe {
  /** True while the process that started at startTicks still runs (zombies count as gone). */
  isAlive(pid: number, startTicks: number): boolean;
  /** Resident memory in bytes, or null when the process is gone. */
  rssBytes(pid: number): number | null;
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
    let text: string;
    try {
      text = readFileSync(`${this.procRoot}/${pid}/stat`, "latin1");
    } catch {
      return false;
    }
    // Fields after the comm: state is the first, starttime the 20th.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" && Number(fields[19]) === startTicks;
  }
}
