// The sentinel's line protocol (sentinel.c says it in full): what the daemon
// writes on its stdin, as the changes since what it last wrote, and what it
// reads back from its stdout.
import type { LookoutWatch } from "../engine/ports.js";

/** What the sentinel was last told, to send only what changed. */
export interface Told {
  forks: number;
  drop: number;
  /** Watched ends: PID → start ticks, and the call of linesFor that last saw it (to find those no longer watched). */
  ends: Map<number, { startTicks: number; seen: number }>;
  /** Memory groups: key (the unit's PID) → what set it, with the line that did. */
  memory: Map<number, ToldGroup>;
  /** How many times linesFor was called: marks what each call saw. */
  calls: number;
}

/** A memory group as last told. */
interface ToldGroup {
  limitBytes: number;
  near: boolean;
  pids: readonly number[];
  line: string;
  seen: number;
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
  return { forks: 0, drop: 0, ends: new Map(), memory: new Map(), calls: 0 };
}

// The lines that take the sentinel from what it was told to `what`; `told` is updated to match.
// Called after every scan with mostly the same `what`: what did not change is compared in place, and
// no line is made for it (nor maps made anew).
export function linesFor(told: Told, what: LookoutWatch): string[] {
  const lines: string[] = [];
  const call = ++told.calls;
  const forks = Math.max(0, Math.floor(what.forksPerSurge));
  if (forks !== told.forks) lines.push(`forks ${forks}`);
  told.forks = forks;
  const drop = Math.max(0, Math.floor(what.memoryDropBytes));
  if (drop !== told.drop) lines.push(`drop ${drop}`);
  told.drop = drop;
  /** What is new or changed, said after what is gone. */
  const changed: string[] = [];
  for (const { pid, startTicks } of what.ends) {
    const end = told.ends.get(pid);
    if (end?.startTicks === startTicks) {
      end.seen = call;
      continue;
    }
    // The same PID twice (the engine's units never share one): the last one is told.
    if (end?.seen === call) dropLine(changed, `watch ${pid} `);
    changed.push(`watch ${pid} ${startTicks}`);
    told.ends.set(pid, { startTicks, seen: call });
  }
  for (const [pid, end] of told.ends) {
    if (end.seen === call) continue;
    lines.push(`unwatch ${pid}`);
    told.ends.delete(pid);
  }
  lines.push(...changed);
  changed.length = 0;
  for (const group of what.memory) {
    const limitBytes = Math.floor(group.limitBytes);
    const before = told.memory.get(group.pid);
    if (before !== undefined && before.limitBytes === limitBytes && before.near === group.near && samePids(before.pids, group.pids)) {
      before.seen = call;
      continue;
    }
    const line = memoryLine(group.pid, limitBytes, group.near, group.pids);
    if (before?.seen === call) dropLine(changed, `memory ${group.pid} `);
    if (before?.line !== line || before.seen === call) changed.push(line);
    told.memory.set(group.pid, { limitBytes, near: group.near, pids: [...group.pids], line, seen: call });
  }
  for (const [key, group] of told.memory) {
    if (group.seen === call) continue;
    lines.push(`forget ${key}`);
    told.memory.delete(key);
  }
  lines.push(...changed);
  return lines;
}

// Take out the line that starts with `prefix` (a PID said twice in one call).
function dropLine(lines: string[], prefix: string): void {
  const at = lines.findIndex((line) => line.startsWith(prefix));
  if (at >= 0) lines.splice(at, 1);
}

function samePids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
