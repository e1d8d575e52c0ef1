// Which listed PIDs may name a process other than the one they named at the
// last look, without reading each process. The kernel hands PIDs out in a
// cycle (the next free one after the last given), so every PID given since the
// last look lies in the span from the last PID given then to the last PID
// given now (/proc/loadavg's last field), wrapping at pid_max, unless the
// cycle went all the way round: more forks since (/proc/stat's `processes`,
// threads included, since they take PIDs too) than PIDs in the cycle. Outside
// that span, a PID listed now and at the last look is the same process.
import fs from "node:fs";
import { ProcCounters } from "./counters.js";

/** Where the cycle's size cannot be read: the smallest pid_max a kernel uses by default. */
const FALLBACK_PID_MAX = 32768;
/** loadavg is one short line. */
const LOADAVG_BUFFER_BYTES = 128;
const CHAR_0 = 0x30;
const CHAR_9 = 0x39;

/** True when a PID may have been handed out since the last look. */
export type MayBeNew = (pid: number) => boolean;

export class PidCursor {
  private readonly counters: ProcCounters;
  private readonly buffer = Buffer.alloc(LOADAVG_BUFFER_BYTES);
  private fd: number | null | undefined;
  /** The table numbers PIDs as this process's namespace does (loadavg speaks of the reader's). */
  private readonly trusted: boolean;
  private readonly pidMax: number;
  private last: { pid: number; forks: number } | null = null;

  constructor(
    private readonly procRoot: string,
    selfPid: number,
  ) {
    this.counters = new ProcCounters(procRoot);
    this.trusted = readLink(`${procRoot}/self`) === String(selfPid);
    this.pidMax = readNumber(`${procRoot}/sys/kernel/pid_max`) ?? FALLBACK_PID_MAX;
  }

  // Read the cursor now: which PIDs may be new since the last call; null when that is not known
  // (the first call, a file that cannot be read, a whole cycle of forks): then any may be.
  advance(): MayBeNew | null {
    const now = this.trusted ? this.read() : null;
    const last = this.last;
    this.last = now;
    if (now === null || last === null || now.forks - last.forks >= this.pidMax) return null;
    const from = last.pid;
    const to = now.pid;
    // The span (from, to], wrapping at pid_max: what was handed out since.
    return to >= from ? (pid) => pid > from && pid <= to : (pid) => pid > from || pid <= to;
  }

  close(): void {
    this.counters.close();
    if (typeof this.fd === "number") fs.closeSync(this.fd);
    this.fd = undefined;
  }

  // The last PID handed out and the forks since boot, or null when either cannot be read.
  private read(): { pid: number; forks: number } | null {
    const pid = this.lastPid();
    const forks = this.counters.forksSinceBoot();
    return pid === null || forks === null ? null : { pid, forks };
  }

  // loadavg's last field, read through a file held open (the kernel renders it afresh at each read).
  private lastPid(): number | null {
    if (this.fd === undefined) {
      try {
        this.fd = fs.openSync(`${this.procRoot}/loadavg`, "r");
      } catch {
        this.fd = null;
      }
    }
    if (this.fd === null) return null;
    let length: number;
    try {
      length = fs.readSync(this.fd, this.buffer, 0, LOADAVG_BUFFER_BYTES, 0);
    } catch {
      return null;
    }
    return lastNumber(this.buffer, length);
  }
}

// The last run of digits in buffer[0, length), or null when there is none.
function lastNumber(buffer: Buffer, length: number): number | null {
  let end = length;
  while (end > 0 && (buffer[end - 1]! < CHAR_0 || buffer[end - 1]! > CHAR_9)) end--;
  let start = end;
  while (start > 0 && buffer[start - 1]! >= CHAR_0 && buffer[start - 1]! <= CHAR_9) start--;
  if (start === end) return null;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (buffer[i]! - CHAR_0);
  return value;
}

function readLink(link: string): string | null {
  try {
    return fs.readlinkSync(link);
  } catch {
    return null;
  }
}

function readNumber(file: string): number | null {
  try {
    const value = Number(fs.readFileSync(file, "latin1").trim());
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}
