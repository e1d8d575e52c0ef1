// One process's /proc/<pid>/stat read on its own, outside a scan: for the
// checks that cannot wait for the next one (the signal guard, the liveness
// probe). The scan itself parses into a reused buffer (scan.ts); so does this
// reader, since the guard reads it before every signal of a containment
// (about five times cheaper than readFileSync, which also fstats and reads twice).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Task flag of kernel threads, from include/linux/sched.h. */
export const PF_KTHREAD = 0x00200000;
/** A stat line is a few hundred bytes; comm is at most 64. */
const STAT_BUFFER_BYTES = 4096;
const buffer = Buffer.allocUnsafe(STAT_BUFFER_BYTES);

export interface StatLine {
  comm: string;
  /** The state letter: R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Session id. */
  sid: number;
  /** The controlling terminal (tty_nr), 0 when none. */
  ttyNr: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
  /** True for kernel threads; by the flag alone, since in a PID namespace PID 2 is an ordinary process. */
  kernelThread: boolean;
}

export interface OwnedStatLine extends StatLine {
  /** The owner of /proc/<pid>, as stat(2) of that directory tells it (the kernel gives its files the same). */
  uid: number;
}

// The fields of /proc/<pid>/stat, or null when the process is gone.
export function readStatLine(procRoot: string, pid: number): StatLine | null {
  return read(procRoot, pid, false);
}

// The same and the process's owner, from one open file.
export function readOwnedStatLine(procRoot: string, pid: number): OwnedStatLine | null {
  return read(procRoot, pid, true) as OwnedStatLine | null;
}

function read(procRoot: string, pid: number, withOwner: boolean): StatLine | OwnedStatLine | null {
  let fd: number;
  try {
    fd = openSync(`${procRoot}/${pid}/stat`, "r");
  } catch {
    return null;
  }
  try {
    const uid = withOwner ? fstatSync(fd).uid : undefined;
    const length = readSync(fd, buffer, 0, STAT_BUFFER_BYTES, 0);
    const stat = parseStatLine(buffer.toString("latin1", 0, length));
    return withOwner ? { ...stat, uid: uid! } : stat;
  } catch {
    // ESRCH: the process ended between the open and the read.
    return null;
  } finally {
    closeSync(fd);
  }
}

// Comm runs from the first '(' to the LAST ')', since it may hold both.
function parseStatLine(text: string): StatLine {
  const close = text.lastIndexOf(")");
  // Fields after the comm, counted from 0: state, ppid, pgrp, session (3), tty_nr (4), ..., flags (6), ..., starttime (19).
  const fields = text.slice(close + 2).split(" ");
  return {
    comm: text.slice(text.indexOf("(") + 1, close),
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    ttyNr: Number(fields[4]),
    startTicks: Number(fields[19]),
    kernelThread: (Number(fields[6]) & PF_KTHREAD) !== 0,
  };
}
