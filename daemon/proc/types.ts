// What one scan of /proc tells about each process. Every check (limits, trees,
// anomalies, zombies) reads this one snapshot; nothing else reads /proc per tick.

/** One process as read from /proc/<pid>/stat (plus its owner). */
export interface ProcessSample {
  pid: number;
  ppid: number;
  /**
   * The owner of /proc/<pid>: the process's effective user id (a setuid program
   * run by the user shows its file's owner, not the user).
   */
  uid: number;
  /** The state letter from /proc/<pid>/stat: R, S, D, Z, T, t, X, I, ... */
  state: string;
  /** The kernel's comm: the executable's name, truncated to 15 characters. */
  comm: string;
  pgid: number;
  sid: number;
  /** The controlling terminal (tty_nr), 0 when the process has none. */
  ttyNr: number;
  /** Start time in clock ticks since boot: (pid, startTicks) names one process for good. */
  startTicks: number;
  /** Start time in milliseconds since the epoch. */
  startTimeMs: number;
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** CPU use since the previous scan, in percent of one core; 0 on a process's first scan. */
  cpuPercent: number;
  /** Resident set size in bytes. */
  rssBytes: number;
  /** Number of threads. */
  threads: number;
  /** True for kernel threads: the PF_KTHREAD flag alone (in a PID namespace PID 2 is an ordinary process). */
  kernelThread: boolean;
}

/** One scan of the whole process table. */
export interface ProcessSnapshot {
  /** When the scan was taken, in milliseconds since the epoch. */
  timeMs: number;
  processes: ReadonlyMap<number, ProcessSample>;
  /** Direct children of a pid, from the same scan. */
  childrenOf(pid: number): readonly number[];
  /** The PIDs this look read from /proc (a peek carries the others over from earlier reads); absent: every one. */
  readonly readNow?: ReadonlySet<number>;
}

/** Reads the process table; the real one reads /proc, tests pass synthetic snapshots. */
export interface ProcessSource {
  /** The daemon's own PID as this table numbers it: never adopted, never counted in a tree, never signalled. */
  readonly selfPid: number;
  /**
   * The table now. `focus`: the PIDs whose trees (descendants, and the session
   * or group one leads) must be read afresh; a source may then carry the other
   * processes' samples over from an earlier scan for a few scans (ProcScanner's
   * restEveryScans). Without a focus, every process is read afresh.
   */
  scan(focus?: ReadonlySet<number>): ProcessSnapshot;
  /** argv of a process, or null when it is gone or unreadable (kernel threads have none). */
  readCmdline(pid: number): string[] | null;
  /** Basename of /proc/<pid>/exe, or null when it cannot be read. */
  readExeName(pid: number): string | null;
  /**
   * The processes now, cheaply and without side effects on the scans (CPU
   * baselines): for a decision between scans. Without it, scan() is used.
   */
  peek?(fresh?: PeekFresh): ProcessSnapshot;
}

/**
 * What a peek reads afresh though it read it before: these PIDs, or every
 * process new since the last scan ("new"), whose first read may have caught it
 * between its fork and its setsid or exec (a decision to start or follow), or
 * (`{ newAnd }`: what a signal is to be judged on must be read now) every
 * process new since the last scan, the PIDs given, and every process that its
 * last read put in a session one of them leads.
 */
export type PeekFresh = ReadonlySet<number> | "new" | { newAnd: ReadonlySet<number> };
