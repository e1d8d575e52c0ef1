// A keeper's record: what the keeper (keeper.c) writes about the program it
// holds, one "key value..." per line, replaced atomically on every change.
// Parsing is strict: a record this daemon cannot read is stale, not a guess.
import { constants } from "node:os";

export const RECORD_SUFFIX = ".keeper";
const RECORD_MAGIC = "selfheal-keeper";
const RECORD_VERSION = 1;

/** A process named for good: PID and start time in clock ticks since boot. */
export interface ProcessId {
  pid: number;
  startTicks: number;
}

/** How the program ended, as the keeper read it from waitid(). */
export interface RecordedEnd {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** The signal's name (SIGSEGV), or null. */
  signal: string | null;
  coreDumped: boolean;
  /** When it ended, in milliseconds since the epoch. */
  atMs: number;
}

export interface KeeperRecord {
  /** The boot it was written in (/proc/sys/kernel/random/boot_id); PIDs of another boot mean nothing. */
  boot: string;
  /** The policy's name, as the daemon passed it. */
  tag: string;
  keeper: ProcessId;
  /** The program: the process started, or the one it forked away to. */
  program: ProcessId;
  /** The PID the program forked away from (the keeper followed the fork), or null. */
  followedFrom: number | null;
  /** The program's end, or null while it runs. */
  end: RecordedEnd | null;
}

/** Signal numbers to names (11 → SIGSEGV), from Node's own table; of two names for one number (SIGABRT, SIGIOT) the first, as Node's exit events say. */
const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals)
    .reverse()
    .map(([name, number]) => [number, name]),
);
/** errno numbers to names (2 → ENOENT), for the keeper's "error" line; of two names for one number, the first. */
const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno)
    .reverse()
    .map(([name, number]) => [number, name]),
);

// The name of signal `number` (SIGSEGV), or "signal N" when Node does not know it.
export function signalName(number: number): string {
  return SIGNAL_NAMES.get(number) ?? `signal ${number}`;
}

// The name of errno `number` (ENOENT), or "errno N".
export function errnoName(number: number): string {
  return ERRNO_NAMES.get(number) ?? `errno ${number}`;
}

// Parse a record's text; null when it is not a record of this version (or torn, which atomic writes rule out).
export function parseRecord(text: string): KeeperRecord | null {
  const lines = text.split("\n").filter((line) => line !== "");
  if (lines[0] !== `${RECORD_MAGIC} ${RECORD_VERSION}`) return null;
  const fields = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const [key, ...values] = line.split(" ");
    if (key !== undefined) fields.set(key, values);
  }
  const boot = fields.get("boot")?.[0] ?? "";
  const tag = fields.get("tag")?.[0];
  const keeper = processIdOf(fields.get("keeper"));
  const program = processIdOf(fields.get("program"));
  if (tag === undefined || keeper === null || program === null) return null;
  const followed = fields.get("followed");
  const followedFrom = followed === undefined ? null : integerOf(followed[0]);
  const endFields = fields.get("end");
  const end = endFields === undefined ? null : endOf(endFields);
  if (endFields !== undefined && end === null) return null;
  return { boot, tag: decodeTag(tag), keeper, program, followedFrom, end };
}

// The tag the daemon passes for a policy name: names are letters, digits and . _ @ + - (config/defaults.ts), so this is safe; encoded anyway.
export function encodeTag(name: string): string {
  return encodeURIComponent(name);
}

function decodeTag(tag: string): string {
  try {
    return decodeURIComponent(tag);
  } catch {
    return tag;
  }
}

// "PID START" → the pair, or null.
function processIdOf(values: string[] | undefined): ProcessId | null {
  const pid = integerOf(values?.[0]);
  const startTicks = integerOf(values?.[1]);
  return pid === null || pid <= 0 || startTicks === null ? null : { pid, startTicks };
}

// "exit CODE CORE AT" or "signal NUMBER CORE AT" → the end, or null.
function endOf(values: string[]): RecordedEnd | null {
  const [how, value, core, at] = values;
  const number = integerOf(value);
  const atMs = integerOf(at);
  if (number === null || atMs === null || (core !== "0" && core !== "1")) return null;
  if (how === "exit") return { code: number, signal: null, coreDumped: false, atMs };
  if (how === "signal") return { code: null, signal: signalName(number), coreDumped: core === "1", atMs };
  return null;
}

function integerOf(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
