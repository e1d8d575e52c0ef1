// How long one read of the whole process table takes: our scanner against
// ps-list, pidusage and a naive readFileSync scan, at about 300 processes.

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import pidusage from "pidusage";
import psList from "ps-list";
import { ProcScanner } from "../daemon/proc/scan.js";
import { summarize } from "./stats.js";

/** A busy desktop session has about this many processes. */
const TARGET_PROCESSES = 300;
/** Long enough to outlive the benchmark; they are killed at the end anyway. */
const FILLER_SLEEP_SECONDS = "600";
const WARMUP_CALLS = 10;
const MEASURED_CALLS = 100;
/** ps-list and pidusage are far slower; fewer calls keep the run short. */
const MEASURED_SLOW_CALLS = 50;
const FILLER_READY_TIMEOUT_MS = 10_000;
const POLL_MS = 50;

// Prints per-call timings of each way to read the process table.
export async function benchScan(): Promise<void> {
  const fillers = await fillProcessTable(TARGET_PROCESSES);
  try {
    const processCount = new ProcScanner().scan().processes.size;
    console.log(`\n/proc scan: one read of the whole process table, ${processCount} processes (${fillers.length} of them sleep fillers)`);
    const scanner = new ProcScanner();
    const rows: Array<[string, number[]]> = [
      ["ProcScanner.scan() warm", await timeCalls(() => scanner.scan(), MEASURED_CALLS)],
      ["ProcScanner.scan() cold", await timeCalls(() => new ProcScanner().scan(), MEASURED_CALLS)],
      ["naive readFileSync scan", await timeCalls(naiveScan, MEASURED_CALLS)],
      ["ps-list", await timeCalls(() => psList(), MEASURED_SLOW_CALLS)],
      ["pidusage(all pids)", await timeCalls(() => pidusage(listPids()), MEASURED_SLOW_CALLS)],
    ];
    pidusage.clear();
    printTable(rows);
  } finally {
    await killAll(fillers);
  }
}

// Starts sleeping children until the system has about target processes, and waits until they run.
export async function fillProcessTable(target: number): Promise<ChildProcess[]> {
  const missing = Math.max(0, target - listPids().length);
  const fillers = Array.from({ length: missing }, () => spawn("sleep", [FILLER_SLEEP_SECONDS], { stdio: "ignore" }));
  const deadline = Date.now() + FILLER_READY_TIMEOUT_MS;
  const scanner = new ProcScanner();
  while (fillers.some((child) => scanner.scan().processes.get(child.pid ?? -1)?.comm !== "sleep")) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return fillers;
}

// Kills the fillers and waits until each is reaped.
export async function killAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      return exited;
    }),
  );
}

// Runs fn a few times to warm up, then times count calls one after another, in ms.
async function timeCalls(fn: () => unknown, count: number): Promise<number[]> {
  for (let i = 0; i < WARMUP_CALLS; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

// The pids now in /proc.
function listPids(): number[] {
  return fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number);
}

// What a first attempt usually looks like: readFileSync and split every stat, stat every directory.
function naiveScan(): Map<number, { comm: string; ppid: number; cpuTicks: number; uid: number }> {
  const result = new Map<number, { comm: string; ppid: number; cpuTicks: number; uid: number }>();
  for (const pid of listPids()) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = text.lastIndexOf(")");
      const fields = text.slice(close + 2).split(" ");
      result.set(pid, {
        comm: text.slice(text.indexOf("(") + 1, close),
        ppid: Number(fields[1]),
        cpuTicks: Number(fields[11]) + Number(fields[12]),
        uid: fs.statSync(`/proc/${pid}`).uid,
      });
    } catch {
      // the process ended meanwhile
    }
  }
  return result;
}

// Prints min, median, p95 and mean per method, in milliseconds.
export function printTable(rows: Array<[string, number[]]>): void {
  const header = ["method", "calls", "min ms", "median ms", "p95 ms", "mean ms"];
  const lines = rows.map(([name, times]) => {
    const s = summarize(times);
    return [name, String(s.count), ...[s.min, s.median, s.p95, s.mean].map((v) => v.toFixed(3))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const format = (cells: string[]): string =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}
