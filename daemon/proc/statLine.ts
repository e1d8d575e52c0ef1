// One process's /proc/<pid>/stat read on its own, outside a scan: for the
// checks that cannot wait for the next one (the signal guard, the liveness
// probe). The scan itself parses into a reused buffer (scan.ts).
import { readFileSync } from "node:fs";

/** Task flag of kernel threads, from include/linux/sched.h. */
export const PF_KTHREAD = 0x00200000;

export interface StatLine {
  comm: string;
  /** The state letter: R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  /** Session id. */
  sid: number;
  /** The controlling terminal (tty_nr), 0 when none. */
  ttyNr: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
  /** True for kernel threads; by the flag alone, since in a PID namespace PID 2 is an ordinary process. */
  kernelThread: boolean;
}

// The fields of /proc/<pid>/stat, or null when the process is gone. Comm runs
// from the first '(' to the LAST ')', since it may hold both.
export function readStatLine(procRoot: string, pid: number): StatLine | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  const close = text.lastIndexOf(")");
  // Fields after the comm, counted from 0: state, ppid, pgrp, session (3), tty_nr (4), ..., flags (6), ..., starttime (19).
  const fields = text.slice(close + 2).split(" ");
  return {
    comm: text.slice(text.indexOf("(") + 1, close),
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    sid: Number(fields[3]),
    ttyNr: Number(fields[4]),
    startTicks: Number(fields[19]),
    kernelThread: (Number(fields[6]) & PF_KTHREAD) !== 0,
  };
}
