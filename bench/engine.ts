// The engine's own figures: crash → restarted, memory limit → action, and the
// cost of one scan-and-evaluate tick at about 300 processes (the daemon at rest: idle.ts).
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, watch } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { Engine } from "../daemon/engine/engine.js";
import { systemClock } from "../daemon/engine/clock.js";
import { ProcScanner, systemPageSizeBytes } from "../daemon/proc/scan.js";
import { ProcProbe } from "../daemon/proc/probe.js";
import { SignalGuard } from "../daemon/safety/guard.js";
import { ChildSpawner } from "../daemon/supervise/spawner.js";
import { parseConfig } from "../daemon/config/load.js";
import type { EngineEvent } from "../daemon/engine/events.js";
import { killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../test/helpers/daemon.js";
import { fillProcessTable, killAll, printTable } from "./scan.js";

const CRASHES = 25;
const MEMORY_BREACHES = 10;
const TICKS = 200;
const WATCHED = 50;
const HOG = resolve(import.meta.dirname, "../test/engine/fixtures/hog.mjs");
const MB = 1024 * 1024;
/** Program names unique to this run (comm keeps 15 characters). */
export const RUN_ID = process.pid.toString(36);

export async function benchEngine(): Promise<void> {
  await benchCrashRestart("with keepers (the default)");
  await benchCrashRestart("without keepers (--no-keeper)", ["--no-keeper"]);
  await benchCrashAfterNewProcesses();
  await benchMemoryLimit();
  await benchTick();
  // The daemon at rest with 50 programs: bench/idle.ts.
}

// The events logged since `from` (a count of lines already seen).
function newEvents(daemon: RunningDaemon, from: number): EngineEvent[] {
  return daemon.events().slice(from);
}

// Kill watched programs with SIGSEGV; time until the daemon has started the
// new one. Each of the programs crashes once, so no backoff applies: this is
// the latency of a first crash after a healthy run.
export async function benchCrashRestart(label: string, args: string[] = []): Promise<void> {
  const dir = makeTestDir("bench-crash");
  const policies = Array.from({ length: CRASHES }, (_, i) => {
    // Names of this run alone: a bench run at the same time on the machine must not adopt these (nor this one its).
    const name = `bc${RUN_ID}x${i}`;
    const program = uniqueSleep(dir, name);
    return `[process.${name}]\ncommand = ["${program}", "600"]\nautostart = true\n`;
  }).join("\n");
  const daemon = await startDaemon(policies, { dir, args });
  const latencies: number[] = [];
  const leftovers: number[] = [];
  let cost = "";
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= CRASHES, 20_000, () => "programs did not start");
    const started = daemon.events().flatMap((e) => (e.kind === "started" ? [e] : []));
    const log = new LogTail(join(daemon.stateDir, "events.jsonl"));
    const before = processCost(daemon.process.pid!);
    for (const program of started) {
      await new Promise((r) => setTimeout(r, 100));
      latencies.push(await crashUntilRestarted(log, program.pid, leftovers));
    }
    // Let the ended keepers be reaped, so that their time counts in the daemon's children's.
    await new Promise((r) => setTimeout(r, 500));
    const after = processCost(daemon.process.pid!);
    cost = `counts per crash (daemon and what it reaped: keepers, programs): CPU ${((after.cpuMs - before.cpuMs) / CRASHES).toFixed(2)} ms, ` +
      `daemon context switches ${((after.voluntary - before.voluntary) / CRASHES).toFixed(1)} voluntary + ${((after.involuntary - before.involuntary) / CRASHES).toFixed(1)} involuntary`;
  } finally {
    await daemon.cleanup();
    killQuietly(leftovers);
  }
  console.log(`\ncrash (SIGSEGV) → new process started, seen in the event log (${CRASHES} programs, one crash each), ${label}`);
  printTable([["crash → restarted", latencies]]);
  console.log(cost);
}

// Crash `pid` (SIGSEGV) and wait for its restart in the event log: the ms between; the new PID goes to `leftovers`.
async function crashUntilRestarted(log: LogTail, pid: number, leftovers: number[]): Promise<number> {
  log.skipToEnd();
  const start = performance.now();
  process.kill(pid, "SIGSEGV");
  const restarted = await log.waitFor((e) => e.kind === "restarted" && e.oldPid === pid);
  const ms = performance.now() - start;
  if (restarted.kind === "restarted") leftovers.push(restarted.newPid);
  return ms;
}

const FRESH_PROGRAMS = 8;
const FRESH_PROCESSES = 150;
/** Long enough for two scans (1 s each): the new processes have lived through one. */
const FRESH_LIVED_MS = 2500;

// The first crash after a while: 150 new processes have started and lived 2.5 s (a desktop
// opens programs between crashes), then a crash. The look for a running copy before the restart
// needs each process's argv and executable: the scans learn them, so it reads none of these.
export async function benchCrashAfterNewProcesses(): Promise<void> {
  const dir = makeTestDir("bench-fresh");
  const policies = Array.from({ length: FRESH_PROGRAMS }, (_, i) => {
    const name = `bf${RUN_ID}x${i}`;
    return `[process.${name}]\ncommand = ["${uniqueSleep(dir, name)}", "600"]\nautostart = true\n`;
  }).join("\n");
  const daemon = await startDaemon(policies, { dir });
  const latencies: number[] = [];
  const leftovers: number[] = [];
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= FRESH_PROGRAMS, 20_000, () => "programs did not start");
    const started = daemon.events().flatMap((e) => (e.kind === "started" ? [e] : []));
    const log = new LogTail(join(daemon.stateDir, "events.jsonl"));
    const filler = uniqueSleep(dir, `bn${RUN_ID}`);
    for (const program of started) {
      const fresh = Array.from({ length: FRESH_PROCESSES }, () => spawn(filler, ["600"], { stdio: "ignore" }));
      try {
        await new Promise((r) => setTimeout(r, FRESH_LIVED_MS));
        latencies.push(await crashUntilRestarted(log, program.pid, leftovers));
      } finally {
        for (const child of fresh) child.kill("SIGKILL");
      }
    }
  } finally {
    await daemon.cleanup();
    killQuietly(leftovers);
  }
  console.log(`\ncrash (SIGSEGV) → new process started, each after ${FRESH_PROCESSES} new processes lived ${FRESH_LIVED_MS / 1000} s (${FRESH_PROGRAMS} programs, keepers)`);
  printTable([["crash → restarted", latencies]]);
}

/** What a process has cost so far: CPU (its threads, and the children it reaped), and its threads' context switches. */
interface ProcessCost {
  cpuMs: number;
  voluntary: number;
  involuntary: number;
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

// Counts rather than clocks: on a loaded machine they say what the path does, whatever waited for a core.
function processCost(pid: number): ProcessCost {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  // utime, stime, cutime, cstime: fields 14 to 17 of the line (11 to 14 after the state).
  const ticks = fields[11]! + fields[12]! + fields[13]! + fields[14]!;
  let voluntary = 0;
  let involuntary = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, "latin1");
    voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, voluntary, involuntary };
}

/** How long the tail waits for a change notice before it looks anyway (a notice missed costs this much at most). */
const TAIL_FALLBACK_MS = 50;

/**
 * Follows the event log: woken by the kernel (inotify) when the daemon appends,
 * never spinning: on this 2-core machine a busy loop here would take a core
 * from the daemon and the keepers it measures.
 */
export class LogTail {
  private offset = 0;
  constructor(private readonly path: string) {}

  skipToEnd(): void {
    this.offset = statSync(this.path).size;
  }

  async waitFor(match: (event: EngineEvent) => boolean, timeoutMs = 10_000): Promise<EngineEvent> {
    const deadline = Date.now() + timeoutMs;
    let wake: (() => void) | null = null;
    const watcher = watch(this.path, () => wake?.());
    try {
      for (;;) {
        const changed = new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, TAIL_FALLBACK_MS);
        });
        const size = statSync(this.path).size;
        if (size > this.offset) {
          const text = readFileSync(this.path).subarray(this.offset).toString("utf8");
          const found = text
            .split("\n")
            .filter((line) => line.endsWith("}"))
            .map((line) => JSON.parse(line) as EngineEvent)
            .find(match);
          if (found) return found;
        }
        if (Date.now() > deadline) throw new Error("event not seen in time");
        await changed;
      }
    } finally {
      watcher.close();
    }
  }
}

// A program that allocates 20 MB every 50 ms past a 100 MB limit (memory_sustain = 0):
// time from the moment its RSS crosses the limit to the daemon's action.
async function benchMemoryLimit(): Promise<void> {
  const daemon = await startDaemon(
    `[settings]\ninterval = 1.0\n\n[process.benchhog]\ncommand = ["${process.execPath}", "${HOG}", "20", "400"]\nmatch = "/hog\\\\.mjs 20 400/"\nautostart = true\nmemory_limit_mb = 100\nmemory_sustain = 0\nscope = "process"\ncooldown = { max_restarts = 1000, window = 60, pause = 1 }\n`,
  );
  const pageSize = systemPageSizeBytes();
  const latencies: number[] = [];
  try {
    await daemon.waitForEvent("started", (e) => e.name === "benchhog");
    for (let i = 0; i < MEMORY_BREACHES; i++) {
      const seen = daemon.events().length;
      const started = daemon.events().filter((e) => e.kind === "started" || e.kind === "restarted").at(-1)!;
      const pid = started.kind === "restarted" ? started.newPid : (started as Extract<EngineEvent, { kind: "started" }>).pid;
      // Watch the program's RSS closely to see when it crosses the limit.
      let crossedAt = 0;
      while (crossedAt === 0) {
        let rss = 0;
        try {
          rss = Number(readFileSync(`/proc/${pid}/statm`, "latin1").split(" ")[1]) * pageSize;
        } catch {
          break;
        }
        if (rss > 100 * MB) crossedAt = Date.now();
      }
      const violation = await daemon.waitForEvent("violation", (e) => e.pid === pid, 10_000);
      if (crossedAt > 0) latencies.push(violation.timeMs - crossedAt);
      await waitFor(() => newEvents(daemon, seen).some((e) => e.kind === "restarted"), 10_000, () => "no restart after violation");
    }
  } finally {
    await daemon.cleanup();
  }
  console.log(`\nmemory limit exceeded → action (SIGTERM sent), memory_sustain = 0, 1 s scan interval, ${latencies.length} breaches (ms, clock resolution 1 ms)`);
  printTable([["over 100 MB → violation acted on", latencies]]);
}

// One tick of the engine (scan + every policy applied) at about 300 processes with 50 policies.
async function benchTick(): Promise<void> {
  const fillers = await fillProcessTable(300);
  try {
    const policies = Array.from({ length: WATCHED }, (_, i) =>
      i % 2 === 0
        ? `[process.w${i}]\ncommand = ["sleep"]\nmatch = "sleep"\nmemory_limit_mb = 1000\ncpu_limit = 90\n`
        : `[process.w${i}]\ncommand = ["absent-${i}"]\n`,
    ).join("\n");
    const config = parseConfig(policies, "bench.toml");
    const engine = new Engine(
      {
        clock: systemClock,
        source: new ProcScanner(),
        probe: new ProcProbe("/proc", systemPageSizeBytes()),
        spawner: new ChildSpawner(),
        signaller: new SignalGuard(),
        cooldownStore: { load: () => ({}), save: () => {}, saveSync: () => {} },
      },
      config,
    );
    for (let i = 0; i < 10; i++) engine.tick();
    const ticks: number[] = [];
    const memoryChecks: number[] = [];
    for (let i = 0; i < TICKS; i++) {
      const start = performance.now();
      engine.tick();
      ticks.push(performance.now() - start);
      const checkStart = performance.now();
      engine.checkMemory();
      memoryChecks.push(performance.now() - checkStart);
    }
    const processes = engine.lastSnapshot?.processes.size ?? 0;
    console.log(`\nengine tick at ${processes} processes, ${WATCHED} policies (25 adopted, 25 not running), ${TICKS} ticks`);
    printTable([
      ["scan + evaluate (tick)", ticks],
      ["memory check between scans", memoryChecks],
    ]);
  } finally {
    await killAll(fillers);
  }
}
