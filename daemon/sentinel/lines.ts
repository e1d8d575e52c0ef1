// The sentinel's line protocol (sentinel.c says it in full): what the daemon
// writes on its stdin, as the changes since what it last wrote, and what it
// reads back from its stdout.
import type { LookoutWatch } from "../engine/ports.js";

/** What the sentinel was last told, to send only what changed. */
export interface Told {
  forks: number;
  drop: number;
  /** Watched ends: PID → start ticks. */
  ends: Map<number, number>;
  /** Memory groups: key (the unit's PID) → the line that set it. */
  memory: Map<number, string>;
}

/** What the sentinel reports, one line each. */
export type Report =
  | { kind: "ready"; ends: "pidfd" | "signal" }
  | { kind: "forks"; count: number }
  | { kind: "ended"; pid: number }
  | { kind: "over"; pid: number; rssBytes: number }
  | { kind: "synced"; token: string };

/** The sentinel reads lines of up to 64 KiB; a tree's PIDs past this length are left out of its group (a tree that large is a fork bomb's, judged by the scans). */
const MEMORY_LINE_MAX_CHARS = 60_000;

export function nothingTold(): Told {
  return { forks: 0, drop: 0, ends: new Map(), memory: new Map() };
}

// The lines that take the sentinel from what it was told to `what`; `told` is updated to match.
export function linesFor(told: Told, what: LookoutWatch): string[] {
  const lines: string[] = [];
  const forks = Math.max(0, Math.floor(what.forksPerSurge));
  if (forks !== told.forks) lines.push(`forks ${forks}`);
  told.forks = forks;
  const drop = Math.max(0, Math.floor(what.memoryDropBytes));
  if (drop !== told.drop) lines.push(`drop ${drop}`);
  told.drop = drop;
  const ends = new Map(what.ends.map((end) => [end.pid, end.startTicks]));
  for (const pid of told.ends.keys()) if (!ends.has(pid)) lines.push(`unwatch ${pid}`);
  for (const [pid, start] of ends) if (told.ends.get(pid) !== start) lines.push(`watch ${pid} ${start}`);
  told.ends = ends;
  const memory = new Map(what.memory.map((group) => [group.pid, memoryLine(group.pid, group.limitBytes, group.near, group.pids)]));
  for (const key of told.memory.keys()) if (!memory.has(key)) lines.push(`forget ${key}`);
  for (const [key, line] of memory) if (told.memory.get(key) !== line) lines.push(line);
  told.memory = memory;
  return lines;
}

function memoryLine(key: number, limitBytes: number, near: boolean, pids: readonly number[]): string {
  let line = `memory ${key} ${Math.floor(limitBytes)} ${near ? "near" : "far"}`;
  for (const pid of pids) {
    if (line.length > MEMORY_LINE_MAX_CHARS) break;
    line += ` ${pid}`;
  }
  return line;
}

// One line of the sentinel's stdout, or null when it is not one of its reports.
export function parseReport(line: string): Report | null {
  const [kind, first, second, ...rest] = line.split(" ");
  if (rest.length > 0 || first === undefined) return null;
  const number = (text: string | undefined): number | null => (text !== undefined && /^\d+$/.test(text) ? Number(text) : null);
  if (kind === "ready" && second === undefined && (first === "pidfd" || first === "signal")) return { kind, ends: first };
  if (kind === "synced" && second === undefined) return { kind, token: first };
  const value = number(first);
  if (value === null) return null;
  if (kind === "forks" && second === undefined) return { kind, count: value };
  if (kind === "ended" && second === undefined) return { kind, pid: value };
  const rss = number(second);
  if (kind === "over" && rss !== null) return { kind, pid: value, rssBytes: rss };
  return null;
}
