// Reads the process table from /proc once per tick: one stat file per
// process, into one reused buffer, with per-process facts that cannot change
// (owner, argv, executable) cached for as long as the process lives.
// With restEveryScans (the daemon's engine), a scan given a focus reads each
// tick only what may have changed in a way a check acts on: the focus's trees
// (the watched programs: their limits and samples need every tick), every PID
// that may be new (see pidCursor.ts), a process for its first scans, and the
// children of a process gone since the last scan (their parent is new); the
// rest of the table is read every restEveryScans-th scan, its last sample
// carried over in between. Reading every stat file every second was half of
// an idle daemon's CPU.

import type { PeekFresh, ProcessSample, ProcessSnapshot, ProcessSource } from "./types.js";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { PidCursor } from "./pidCursor.js";
import { PF_KTHREAD } from "./statLine.js";

const DEFAULT_PROC_ROOT = "/proc";
const DEFAULT_CLOCK_TICKS_PER_SECOND = 100;
const DEFAULT_PAGE_SIZE_BYTES = 4096;
/** A stat line is a few hundred bytes; comm is at most 64. */
const STAT_BUFFER_BYTES = 4096;
const PERCENT = 100;
const MS_PER_SECOND = 1000;
/** Errors that mean the process ended while we looked at it. */
const VANISHED_CODES = new Set(["ENOENT", "ESRCH"]);
/**
 * At most this many stat files are held open between scans; beyond it a file
 * is opened for each read. Held, a scan costs one pread per process instead
 * of open, read and close: about 40 % less CPU for the scan.
 */
const MAX_HELD_STAT_FILES = 4096;
/** What the kernel appends to /proc/<pid>/exe when the binary was replaced or removed. */
const DELETED_EXE_SUFFIX = " (deleted)";

// Field numbers of /proc/<pid>/stat, counted from 1 as proc(5) does.
const FIELD_STATE = 3;
const FIELD_PPID = 4;
const FIELD_PGRP = 5;
const FIELD_SESSION = 6;
const FIELD_TTY_NR = 7;
const FIELD_FLAGS = 9;
const FIELD_UTIME = 14;
const FIELD_STIME = 15;
const FIELD_NUM_THREADS = 20;
const FIELD_STARTTIME = 22;
const FIELD_RSS = 24;
/** The first field after comm; the fields before it are pid and comm. */
const FIRST_FIELD_AFTER_COMM = FIELD_STATE;

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_SPACE = 0x20;
const CHAR_MINUS = 0x2d;
const CHAR_OPEN_PAREN = 0x28;
const CHAR_CLOSE_PAREN = 0x29;

const NO_CHILDREN: readonly number[] = Object.freeze([]);

export interface ProcScannerOptions {
  /** Where procfs is mounted; tests point it at a directory they craft. */
  procRoot?: string;
  /** Clock ticks per second (CLK_TCK); asked of getconf when omitted. */
  clockTicksPerSecond?: number;
  /** Page size in bytes; asked of getconf when omitted. */
  pageSizeBytes?: number;
  /** A monotonic clock in milliseconds for CPU deltas; tests pass a fake one. */
  monotonicMs?: () => number;
  /** The wall clock in milliseconds since the epoch, stamped on each snapshot. */
  nowMs?: () => number;
  /**
   * Keep each process's stat file open between scans (default: off; only on
   * the real /proc). For a scanner that lives, as the daemon's do: one pread a
   * scan instead of open, read, close. The kernel regenerates the text on each
   * read and fails it (ESRCH) once that process is gone, so a reused PID is
   * never read through an old file; a crafted tree's files are plain files,
   * which would not. A scanner made for one look must not hold: its files
   * would stay open (call close() when done with a holding one).
   */
  holdStatFiles?: boolean;
  /**
   * Read the processes outside a scan's focus only every this many scans
   * (default 1: every process every scan). See the comment at the top.
   */
  restEveryScans?: number;
}

/** What the scanner remembers about one process between scans. */
interface Tracked {
  startTicks: number;
  comm: string;
  cpuTicks: number;
  uid: number;
  /** CPU ticks used since the previous read; -1 on first sight. */
  cpuDeltaTicks: number;
  /** Monotonic ms of the last read, and the ms from the read before it to that one (0 on first sight). */
  readAtMs: number;
  elapsedMs: number;
  /** Read every scan until this scan's number: a young process may exec, setsid or end soon. */
  youngUntilScan: number;
  /** The sample of the last read, carried over by a scan that does not read the process. */
  sample: ProcessSample | null;
  /** undefined until first asked for; null when it could not be read. */
  cmdline: string[] | null | undefined;
  exeName: string | null | undefined;
}

/** A parsed stat line: reused for every process of a scan. */
interface StatFields {
  comm: string;
  state: string;
  /** Numeric fields by their proc(5) number; only the ones we need are filled. */
  numbers: Float64Array;
}

// One scan's result: the samples and an index of children built alongside.
class Snapshot implements ProcessSnapshot {
  constructor(
    readonly timeMs: number,
    readonly processes: ReadonlyMap<number, ProcessSample>,
    private readonly children: ReadonlyMap<number, number[]>,
    readonly readNow?: ReadonlySet<number>,
  ) {}

  // Direct children of pid, in O(1) from the index.
  childrenOf(pid: number): readonly number[] {
    return this.children.get(pid) ?? NO_CHILDREN;
  }
}

// The real process source: reads /proc.
export class ProcScanner implements ProcessSource {
  readonly selfPid = process.pid;
  private readonly procRoot: string;
  private readonly clockTicksPerSecond: number;
  private readonly pageSizeBytes: number;
  private readonly monotonicMs: () => number;
  private readonly nowMs: () => number;
  private readonly buffer = Buffer.allocUnsafe(STAT_BUFFER_BYTES);
  private readonly fields: StatFields = { comm: "", state: "", numbers: new Float64Array(FIELD_RSS + 1) };
  private bootTimeMs: number | undefined;
  private tracked = new Map<number, Tracked>();
  private lastSnapshot: Snapshot | null = null;
  /** Processes new since the last scan that a peek has read: the next peeks carry them over too. */
  private peeked = new Map<number, ProcessSample>();
  private readonly holdStatFiles: boolean;
  /** Open stat files by pid (see holdStatFiles). */
  private readonly heldStat = new Map<number, number>();
  private readonly restEveryScans: number;
  /** Which PIDs may be new since the last scan; made on the first scan that may leave processes unread. */
  private cursor: PidCursor | null = null;
  private scanNumber = 0;
  private lastFullScan = 0;

  constructor(options: ProcScannerOptions = {}) {
    this.procRoot = options.procRoot ?? DEFAULT_PROC_ROOT;
    this.clockTicksPerSecond = options.clockTicksPerSecond ?? systemClockTicksPerSecond();
    this.pageSizeBytes = options.pageSizeBytes ?? systemPageSizeBytes();
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.nowMs = options.nowMs ?? Date.now;
    this.holdStatFiles = (options.holdStatFiles ?? false) && this.procRoot === DEFAULT_PROC_ROOT;
    this.restEveryScans = Math.max(1, Math.floor(options.restEveryScans ?? 1));
  }

  // Reads the table and returns the snapshot; CPU % is over the time since each process's previous read.
  // Without a focus, or without restEveryScans, every process is read (a containment's or cleanup's look).
  // With one, the processes of the focus's trees and those that may have changed in a way that matters
  // are read, the others every restEveryScans-th scan (see the comment at the top).
  scan(focus?: ReadonlySet<number>): ProcessSnapshot {
    const timeMs = this.nowMs();
    const nowMonotonic = this.monotonicMs();
    const bootTimeMs = this.bootTime();
    const names = fs.readdirSync(this.procRoot);
    const scanNumber = ++this.scanNumber;
    // After the list: a PID handed out again before it was listed falls within the span.
    const mayBeNew = this.restEveryScans > 1 ? this.pidCursor().advance() : null;
    const last = this.lastSnapshot;
    const paced = focus !== undefined && mayBeNew !== null && last !== null && scanNumber - this.lastFullScan < this.restEveryScans;
    if (!paced) this.lastFullScan = scanNumber;
    const read: Read = { nowMonotonic, bootTimeMs, scanNumber, young: last !== null };

    const processes = new Map<number, ProcessSample>();
    const previousTracked = this.tracked;
    const nextTracked = new Map<number, Tracked>();
    /** Processes whose sample was carried over from their last read. */
    const carried = new Set<number>();
    for (const name of names) {
      const pid = parsePidName(name);
      if (pid === null) continue;
      const previous = previousTracked.get(pid);
      if (paced && previous?.sample && scanNumber >= previous.youngUntilScan && !mayBeNew!(pid)) {
        nextTracked.set(pid, previous);
        processes.set(pid, previous.sample);
        carried.add(pid);
        continue;
      }
      this.readInto(pid, previousTracked, nextTracked, processes, read);
    }
    this.tracked = nextTracked;
    if (paced) this.readWhatChanged(focus, last, previousTracked, carried, processes, read);
    // The files of processes gone since the last scan.
    for (const pid of this.heldStat.keys()) if (!processes.has(pid)) this.releaseStat(pid);
    this.lastSnapshot = new Snapshot(timeMs, processes, childIndex(processes));
    this.peeked = new Map();
    return this.lastSnapshot;
  }

  // A paced scan, after the list: read the carried processes whose parent is gone or replaced since
  // the last scan (they were reparented), and those of the focus's trees: each focus PID, its
  // descendants and the members of a session or group one leads (fork-bomb members outlive their parents).
  private readWhatChanged(
    focus: ReadonlySet<number>,
    last: Snapshot,
    previousTracked: ReadonlyMap<number, Tracked>,
    carried: Set<number>,
    processes: Map<number, ProcessSample>,
    read: Read,
  ): void {
    const readAgain = (pid: number): void => {
      if (!carried.delete(pid)) return;
      this.readInto(pid, this.tracked, this.tracked, processes, read);
    };
    // The same Tracked object names the same process, read or carried; any other is gone, replaced or exec'd.
    for (const [pid, tracked] of previousTracked) {
      if (this.tracked.get(pid) !== tracked) for (const child of last.childrenOf(pid)) readAgain(child);
    }
    if (focus.size === 0 || carried.size === 0) return;
    const children = childIndex(processes);
    // Safe against a cycle in a torn table: each process is walked once.
    const seen = new Set(focus);
    const pending = [...focus];
    for (const pid of focus) readAgain(pid);
    for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
      for (const child of children.get(pid) ?? NO_CHILDREN) {
        if (seen.has(child)) continue;
        seen.add(child);
        readAgain(child);
        pending.push(child);
      }
    }
    for (const pid of carried) {
      const sample = processes.get(pid)!;
      if (focus.has(sample.sid) || focus.has(sample.pgid)) readAgain(pid);
    }
  }

  // Read one process into the maps; a process that vanished is left out of both.
  private readInto(pid: number, previousTracked: ReadonlyMap<number, Tracked>, nextTracked: Map<number, Tracked>, processes: Map<number, ProcessSample>, read: Read): void {
    const tracked = this.readStat(pid) ? this.track(pid, previousTracked, read) : null;
    if (tracked === null) {
      nextTracked.delete(pid);
      processes.delete(pid);
      return;
    }
    nextTracked.set(pid, tracked);
    tracked.sample = this.toSample(pid, tracked, read.bootTimeMs);
    processes.set(pid, tracked.sample);
  }

  // The processes now, cheaply (a list of /proc, about 0.1 ms): the last
  // scan's samples for the PIDs still listed, a fresh read of each new one
  // (once: a later peek before the next scan carries it over as well).
  // Not a tick: the CPU baselines and caches stay as the last scan left them.
  // A sample carried over may be out of date (a zombie now, or a reused PID):
  // callers confirm what they act on (ProcessProbe.isAlive).
  // The PIDs in `fresh` ("new": every PID the last scan did not see; { newAnd }: those and the PIDs
  // given) are read afresh whatever was read before: a program's own process read just after its fork,
  // before it left its keeper's session and exec'd, would be carried so until the next scan.
  peek(fresh?: PeekFresh): ProcessSnapshot {
    const last = this.lastSnapshot;
    const bootTimeMs = this.bootTime();
    const processes = new Map<number, ProcessSample>();
    const children = new Map<number, number[]>();
    const peeked = new Map<number, ProcessSample>();
    const readNow = new Set<number>();
    for (const name of fs.readdirSync(this.procRoot)) {
      const pid = parsePidName(name);
      if (pid === null) continue;
      const seen = last?.processes.get(pid);
      // The latest read: an earlier peek's (since the last scan), or the last scan's.
      const latest = this.peeked.get(pid) ?? seen;
      const again = fresh === "new" ? seen === undefined : fresh !== undefined && "newAnd" in fresh ? seen === undefined || fresh.newAnd.has(pid) || fresh.newAnd.has(latest!.sid) : fresh?.has(pid) === true;
      const carried = again ? undefined : latest;
      const sample = carried ?? this.readNew(pid, bootTimeMs);
      if (sample === undefined) continue;
      if (carried === undefined) readNow.add(pid);
      // Kept for the next peeks until the next scan: what the last scan did not see, and what was read since.
      if (sample !== seen) peeked.set(pid, sample);
      processes.set(pid, sample);
      const siblings = children.get(sample.ppid);
      if (siblings === undefined) children.set(sample.ppid, [pid]);
      else siblings.push(pid);
    }
    this.peeked = peeked;
    return new Snapshot(this.nowMs(), processes, children, readNow);
  }

  // A process the last scan did not see, read for a peek; undefined when it vanished.
  private readNew(pid: number, bootTimeMs: number): ProcessSample | undefined {
    if (!this.readStat(pid)) return undefined;
    const uid = this.readOwner(pid);
    if (uid === null) return undefined;
    const { comm, numbers } = this.fields;
    const tracked = newTracked(numbers[FIELD_STARTTIME]!, comm, numbers[FIELD_UTIME]! + numbers[FIELD_STIME]!, uid, 0, 0);
    return this.toSample(pid, tracked, bootTimeMs);
  }

  // argv of pid, cached for the life of the process; null when gone, unreadable or empty.
  readCmdline(pid: number): string[] | null {
    const tracked = this.tracked.get(pid);
    if (tracked?.cmdline !== undefined) return tracked.cmdline;
    const argv = readCmdlineFile(path.join(this.procRoot, String(pid), "cmdline"));
    if (tracked !== undefined) tracked.cmdline = argv;
    return argv;
  }

  // Basename of the executable of pid, cached for the life of the process; null on any error.
  readExeName(pid: number): string | null {
    const tracked = this.tracked.get(pid);
    if (tracked?.exeName !== undefined) return tracked.exeName;
    const exeName = readExeLink(path.join(this.procRoot, String(pid), "exe"));
    if (tracked !== undefined) tracked.exeName = exeName;
    return exeName;
  }

  // Boot time in epoch ms from btime in /proc/stat, read on first need.
  private bootTime(): number {
    if (this.bootTimeMs === undefined) this.bootTimeMs = readBootTimeMs(this.procRoot);
    return this.bootTimeMs;
  }

  // Reads /proc/<pid>/stat into this.fields; false when the process vanished or the line is malformed.
  private readStat(pid: number): boolean {
    const held = this.heldStat.get(pid);
    if (held !== undefined) {
      try {
        return parseStat(this.buffer, fs.readSync(held, this.buffer, 0, STAT_BUFFER_BYTES, 0), this.fields);
      } catch (error) {
        // That process is gone (ESRCH); the PID, listed again, may be another's now: open its file afresh.
        this.releaseStat(pid);
        if (!isVanished(error)) throw error;
      }
    }
    let fd: number;
    try {
      fd = fs.openSync(`${this.procRoot}/${pid}/stat`, "r");
    } catch (error) {
      if (isVanished(error)) return false;
      throw error;
    }
    let length: number;
    let keep = false;
    try {
      length = fs.readSync(fd, this.buffer, 0, STAT_BUFFER_BYTES, 0);
      keep = this.holdStatFiles && this.heldStat.size < MAX_HELD_STAT_FILES;
    } catch (error) {
      if (isVanished(error)) return false;
      throw error;
    } finally {
      if (keep) this.heldStat.set(pid, fd);
      else fs.closeSync(fd);
    }
    return parseStat(this.buffer, length, this.fields);
  }

  // Close the stat file held for pid.
  private releaseStat(pid: number): void {
    const fd = this.heldStat.get(pid);
    if (fd === undefined) return;
    this.heldStat.delete(pid);
    fs.closeSync(fd);
  }

  // Close every held stat file and the cursor's files (a scanner that is no longer used).
  close(): void {
    for (const pid of [...this.heldStat.keys()]) this.releaseStat(pid);
    this.cursor?.close();
  }

  private pidCursor(): PidCursor {
    this.cursor ??= new PidCursor(this.procRoot, this.selfPid);
    return this.cursor;
  }

  // Carries over what is known of the process just read, or learns its owner on first sight; null if it vanished.
  private track(pid: number, previousTracked: ReadonlyMap<number, Tracked>, read: Read): Tracked | null {
    const { comm, numbers } = this.fields;
    const startTicks = numbers[FIELD_STARTTIME]!;
    const cpuTicks = numbers[FIELD_UTIME]! + numbers[FIELD_STIME]!;
    const previous = previousTracked.get(pid);
    const sameProcess = previous !== undefined && previous.startTicks === startTicks;
    let tracked: Tracked;
    if (sameProcess && previous.comm === comm) {
      tracked = previous;
    } else {
      // New process, or the same one after exec (new comm): owner, argv and exe may all differ.
      const uid = this.readOwner(pid);
      if (uid === null) return null;
      // A process first seen after the first scan is young: read every scan for a while.
      const youngUntil = !sameProcess && read.young ? read.scanNumber + this.restEveryScans : 0;
      tracked = newTracked(startTicks, comm, cpuTicks, uid, read.nowMonotonic, youngUntil);
      if (sameProcess) tracked.youngUntilScan = previous.youngUntilScan;
    }
    tracked.cpuDeltaTicks = sameProcess ? Math.max(0, cpuTicks - previous.cpuTicks) : -1;
    tracked.elapsedMs = sameProcess ? read.nowMonotonic - previous.readAtMs : 0;
    tracked.readAtMs = read.nowMonotonic;
    tracked.cpuTicks = cpuTicks;
    return tracked;
  }

  // Owner of /proc/<pid> (the process's effective uid); null when the process vanished.
  private readOwner(pid: number): number | null {
    const stats = fs.statSync(`${this.procRoot}/${pid}`, { throwIfNoEntry: false });
    return stats === undefined ? null : stats.uid;
  }

  // Builds the immutable sample handed to the checks from the parsed fields.
  private toSample(pid: number, tracked: Tracked, bootTimeMs: number): ProcessSample {
    const { comm, state, numbers } = this.fields;
    const elapsedMs = tracked.elapsedMs;
    const ppid = numbers[FIELD_PPID]!;
    const flags = numbers[FIELD_FLAGS]!;
    const cpuPercent =
      tracked.cpuDeltaTicks < 0 || elapsedMs <= 0
        ? 0
        : (tracked.cpuDeltaTicks * PERCENT * MS_PER_SECOND) / (this.clockTicksPerSecond * elapsedMs);
    return {
      pid,
      ppid,
      uid: tracked.uid,
      state,
      comm,
      pgid: numbers[FIELD_PGRP]!,
      sid: numbers[FIELD_SESSION]!,
      ttyNr: numbers[FIELD_TTY_NR]!,
      startTicks: tracked.startTicks,
      startTimeMs: bootTimeMs + (tracked.startTicks * MS_PER_SECOND) / this.clockTicksPerSecond,
      cpuTicks: tracked.cpuTicks,
      cpuPercent,
      rssBytes: numbers[FIELD_RSS]! * this.pageSizeBytes,
      threads: numbers[FIELD_NUM_THREADS]!,
      // The flag alone: in a PID namespace (a container) PID 2 is an ordinary process.
      kernelThread: (flags & PF_KTHREAD) !== 0,
    };
  }
}

/** What every read of one scan shares. */
interface Read {
  nowMonotonic: number;
  bootTimeMs: number;
  scanNumber: number;
  /** Not the scanner's first scan: a process first seen now is new, and read every scan for a while. */
  young: boolean;
}

function newTracked(startTicks: number, comm: string, cpuTicks: number, uid: number, readAtMs: number, youngUntilScan: number): Tracked {
  return { startTicks, comm, cpuTicks, uid, cpuDeltaTicks: -1, readAtMs, elapsedMs: 0, youngUntilScan, sample: null, cmdline: undefined, exeName: undefined };
}

// Direct children by parent.
function childIndex(processes: ReadonlyMap<number, ProcessSample>): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const sample of processes.values()) {
    const siblings = children.get(sample.ppid);
    if (siblings === undefined) children.set(sample.ppid, [sample.pid]);
    else siblings.push(sample.pid);
  }
  return children;
}

// Parses a stat line: comm runs from the first '(' to the LAST ')', since comm may hold both.
function parseStat(buffer: Buffer, length: number, out: StatFields): boolean {
  const open = buffer.indexOf(CHAR_OPEN_PAREN);
  const close = buffer.lastIndexOf(CHAR_CLOSE_PAREN, length - 1);
  if (open < 0 || open >= length || close <= open) return false;
  out.comm = buffer.toString("utf8", open + 1, close);
  const numbers = out.numbers;
  let field = FIRST_FIELD_AFTER_COMM;
  let i = close + 2; // skip ") "
  if (i >= length) return false;
  out.state = String.fromCharCode(buffer[i]!);
  while (field < FIELD_RSS) {
    // Move to the start of the next field.
    while (i < length && buffer[i] !== CHAR_SPACE) i++;
    i++;
    field++;
    if (i >= length) return false;
    let sign = 1;
    if (buffer[i] === CHAR_MINUS) {
      sign = -1;
      i++;
    }
    let value = 0;
    for (let c = buffer[i]!; i < length && c >= CHAR_0 && c <= CHAR_9; c = buffer[++i]!) {
      value = value * 10 + (c - CHAR_0);
    }
    numbers[field] = sign * value;
  }
  return true;
}

// The numeric value of a /proc entry name, or null for entries that are not processes.
function parsePidName(name: string): number | null {
  const first = name.charCodeAt(0);
  if (first < CHAR_0 || first > CHAR_9) return null;
  const pid = Number(name);
  return Number.isInteger(pid) ? pid : null;
}

// True when an fs error means the process is gone.
function isVanished(error: unknown): boolean {
  return VANISHED_CODES.has((error as NodeJS.ErrnoException).code ?? "");
}

// argv from a cmdline file: NUL-separated, trailing NUL dropped; null when empty or unreadable.
function readCmdlineFile(file: string): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  if (text.length === 0) return null;
  const argv = text.split("\0");
  if (argv[argv.length - 1] === "") argv.pop();
  return Object.freeze(argv) as string[];
}

// Basename of an exe link's target, without the " (deleted)" the kernel adds; null on any error.
function readExeLink(link: string): string | null {
  let target: string;
  try {
    target = fs.readlinkSync(link);
  } catch {
    return null;
  }
  if (target.endsWith(DELETED_EXE_SUFFIX)) target = target.slice(0, -DELETED_EXE_SUFFIX.length);
  return path.basename(target);
}

// Boot time in epoch ms: btime of <procRoot>/stat, or now minus uptime when it cannot be read.
function readBootTimeMs(procRoot: string): number {
  try {
    const text = fs.readFileSync(path.join(procRoot, "stat"), "utf8");
    const match = /^btime\s+(\d+)/m.exec(text);
    if (match?.[1] !== undefined) return Number(match[1]) * MS_PER_SECOND;
  } catch {
    // fall through to the estimate
  }
  return Date.now() - os.uptime() * MS_PER_SECOND;
}

let cachedClockTicks: number | undefined;
let cachedPageSize: number | undefined;

// CLK_TCK of this system, asked of getconf once per daemon.
export function systemClockTicksPerSecond(): number {
  cachedClockTicks ??= getconf("CLK_TCK") ?? DEFAULT_CLOCK_TICKS_PER_SECOND;
  return cachedClockTicks;
}

// The page size of this system, asked of getconf once per daemon.
export function systemPageSizeBytes(): number {
  cachedPageSize ??= getconf("PAGESIZE") ?? DEFAULT_PAGE_SIZE_BYTES;
  return cachedPageSize;
}

// A positive integer system variable from getconf, or null when getconf is missing or odd.
function getconf(name: string): number | null {
  try {
    const value = Number(execFileSync("getconf", [name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}
