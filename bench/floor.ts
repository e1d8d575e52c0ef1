// What an idle daemon cannot avoid at its design's rates, counted apart from
// everything else (CPU from /proc/self/task/*/schedstat, every thread, in ns):
// a wake-up of Node.js by an empty 100 ms timer; the sentinels' looks as the
// daemon runs them (one repeating timer, the kernel's fork counter and
// MemAvailable read each look); and one scan of the whole process table.
// At ten looks and one scan a second these set the floor of the idle figure.
// And the same looks taken by the sentinel process (dist/selfheal-sentinel) as
// the daemon has it watch 50 programs: the fork counter and MemAvailable every
// look, 50 adopted ends by pidfd, 50 memory groups read only after a sharp
// drop (far) or, the worst case, every look (near); its CPU from its schedstat.
// And the scan as the daemon's engine takes it (--paced-only for that alone):
// 50 watched programs' trees read every scan, the rest of the table every
// 5th, against a scan of everything, taken alternately at the same spacing.
//
//   node --import tsx bench/floor.ts [--seconds 20] [--paced-only] [--sentinel-only]
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { systemClock } from "../daemon/engine/clock.js";
import { ForkSurge } from "../daemon/engine/sentinels/forkSurge.js";
import { MemoryDrop } from "../daemon/engine/sentinels/memoryDrop.js";
import { SENTINEL_PERIOD_MS, SentinelWatch } from "../daemon/engine/sentinels/watch.js";
import { ProcCounters } from "../daemon/proc/counters.js";
import { ProcScanner } from "../daemon/proc/scan.js";

const DEFAULT_SECONDS = 20;
/** Before counting: the looks' code is run a while first, as in a daemon that has run for a minute. */
const WARM_MS = 5000;
/** This process's own start (tsx, its compiles and collections) settles before anything is counted. */
const START_SETTLE_MS = 15_000;
const SCANS = 200;
const NS_PER_US = 1000;
const LOOKS_PER_SECOND = 1000 / SENTINEL_PERIOD_MS;
const SECONDS_PER_MINUTE = 60;
const US_PER_SECOND = 1e6;
/** A memory limit for the memory sentinel to hold in force (the smallest of 50 programs' 500 MB). */
const LIMIT_BYTES = 500 * 1024 * 1024;

// CPU time of this process so far, all its threads, in ns (schedstat's first field).
function cpuNs(): number {
  return readdirSync("/proc/self/task").reduce((sum, task) => sum + Number(readFileSync(`/proc/self/task/${task}/schedstat`, "latin1").split(" ")[0]), 0);
}

// CPU µs per beat of a repeating SENTINEL_PERIOD_MS timer whose beat runs `look`.
async function usPerBeat(seconds: number, look: () => void, warmMs = WARM_MS): Promise<number> {
  let beats = 0;
  const timer = systemClock.setInterval(() => {
    look();
    beats++;
  }, SENTINEL_PERIOD_MS);
  await new Promise((r) => setTimeout(r, warmMs));
  const [startNs, startBeats] = [cpuNs(), beats];
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const us = (cpuNs() - startNs) / NS_PER_US / Math.max(1, beats - startBeats);
  timer.cancel();
  return us;
}

// CPU µs of one scan of the whole process table, held stat files (as the daemon scans), warm.
function usPerScan(): { us: number; processes: number } {
  const scanner = new ProcScanner({ holdStatFiles: true });
  for (let i = 0; i < SCANS / 4; i++) scanner.scan();
  const start = cpuNs();
  for (let i = 0; i < SCANS; i++) scanner.scan();
  const us = (cpuNs() - start) / NS_PER_US / SCANS;
  const processes = scanner.scan().processes.size;
  scanner.close();
  return { us, processes };
}

/** The engine's pace for processes outside the watched trees (daemon.ts). */
const REST_EVERY_SCANS = 5;
const WATCHED = 50;
const PACED_SCANS = 150;
const PACED_WARM_SCANS = 25;
/** Scans a tenth of a second apart: new processes and PIDs appear between them, as between the daemon's. */
const PACED_SPACING_MS = 100;

// CPU µs of one scan, paced (the engine's: 50 watched programs' trees every scan, the rest every 5th) and
// of everything, taken alternately PACED_SPACING_MS apart; process.cpuUsage() around each scan.
async function usPerPacedScan(): Promise<{ pacedUs: number; fullUs: number; processes: number }> {
  const programs = Array.from({ length: WATCHED }, () => spawn("sleep", ["3600"], { stdio: "ignore" }));
  const focus = new Set(programs.map((child) => child.pid!));
  const paced = new ProcScanner({ holdStatFiles: true, restEveryScans: REST_EVERY_SCANS });
  const full = new ProcScanner({ holdStatFiles: true });
  const cpuUs = (scan: () => void): number => {
    const before = process.cpuUsage();
    scan();
    const used = process.cpuUsage(before);
    return used.user + used.system;
  };
  let [pacedUs, fullUs] = [0, 0];
  try {
    for (let i = 0; i < PACED_WARM_SCANS + PACED_SCANS; i++) {
      await new Promise((r) => setTimeout(r, PACED_SPACING_MS / 2));
      const p = cpuUs(() => paced.scan(focus));
      await new Promise((r) => setTimeout(r, PACED_SPACING_MS / 2));
      const f = cpuUs(() => full.scan());
      if (i < PACED_WARM_SCANS) continue;
      pacedUs += p;
      fullUs += f;
    }
    return { pacedUs: pacedUs / PACED_SCANS, fullUs: fullUs / PACED_SCANS, processes: full.scan().processes.size };
  } finally {
    for (const child of programs) child.kill("SIGKILL");
    paced.close();
    full.close();
  }
}

// The scan alone, paced against full (see usPerPacedScan).
export async function benchPacedScan(): Promise<void> {
  const load = (): string => readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
  const loadBefore = load();
  const { pacedUs, fullUs, processes } = await usPerPacedScan();
  const perMinute = (us: number): string => `${((us * SECONDS_PER_MINUTE) / US_PER_SECOND).toFixed(3)} CPU s/min`;
  console.log(
    `one scan of ${processes} processes, ${WATCHED} of them watched, ${PACED_SCANS} of each taken alternately ${PACED_SPACING_MS / 2} ms apart (load average ${loadBefore} → ${load()}): ` +
      `everything ${fullUs.toFixed(0)} µs (${perMinute(fullUs)} at one a second); the watched trees every scan and the rest every ${REST_EVERY_SCANS}th ${pacedUs.toFixed(0)} µs (${perMinute(pacedUs)})`,
  );
}

const SENTINEL = resolve(import.meta.dirname, "../dist/selfheal-sentinel");

// CPU µs of the sentinel process per look (its schedstat over `seconds`, ten looks a second), watching
// WATCHED sleeping programs' ends and their memory groups, far or near.
async function sentinelUsPerLook(seconds: number, near: boolean): Promise<number> {
  const programs = Array.from({ length: WATCHED }, () => spawn("sleep", ["3600"], { stdio: "ignore" }));
  const sentinel = spawn(SENTINEL, [], { stdio: ["pipe", "ignore", "inherit"] });
  try {
    const lines = [`forks 10`, `drop ${Math.floor(LIMIT_BYTES * 0.1)}`];
    for (const child of programs) {
      const stat = readFileSync(`/proc/${child.pid}/stat`, "latin1");
      lines.push(`watch ${child.pid} ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`, `memory ${child.pid} ${LIMIT_BYTES} ${near ? "near" : "far"} ${child.pid}`);
    }
    sentinel.stdin!.write(`${lines.join("\n")}\n`);
    await new Promise((r) => setTimeout(r, WARM_MS));
    const ns = (): number => Number(readFileSync(`/proc/${sentinel.pid}/schedstat`, "latin1").split(" ")[0]);
    const before = ns();
    const started = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const looks = ((performance.now() - started) / 1000) * LOOKS_PER_SECOND;
    return (ns() - before) / NS_PER_US / looks;
  } finally {
    sentinel.stdin!.end();
    for (const child of programs) child.kill("SIGKILL");
  }
}

// The sentinel process's looks, as the daemon runs them at rest (far) and with every program near its limit.
export async function benchSentinelProcess(seconds = DEFAULT_SECONDS): Promise<void> {
  const load = (): string => readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
  if (!existsSync(SENTINEL)) {
    console.log(`the sentinel process: ${SENTINEL} is missing (npm run build compiles it; it needs a C compiler)`);
    return;
  }
  const perMinute = (usPerLook: number): string => `${((usPerLook * LOOKS_PER_SECOND * SECONDS_PER_MINUTE) / US_PER_SECOND).toFixed(3)} CPU s/min`;
  const loadBefore = load();
  const far = await sentinelUsPerLook(seconds, false);
  const near = await sentinelUsPerLook(seconds, true);
  console.log(
    `the sentinel process's look (schedstat), ${WATCHED} adopted ends by pidfd and ${WATCHED} memory groups, load average ${loadBefore} → ${load()}: ` +
      `at rest (fork counter and MemAvailable read; groups far) ${far.toFixed(1)} µs, ten a second ${perMinute(far)}; ` +
      `every group near its limit (${WATCHED} statm reads a look) ${near.toFixed(1)} µs, ${perMinute(near)}; the daemon is not woken by either`,
  );
}

export async function benchFloor(seconds = DEFAULT_SECONDS): Promise<void> {
  const perMinute = (usPerSecond: number): string => `${((usPerSecond * SECONDS_PER_MINUTE) / US_PER_SECOND).toFixed(3)} CPU s/min`;
  const load = (): string => readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
  console.log(`\nthe idle floor, counted (schedstat, every thread), load average ${load()}`);
  await usPerBeat(0, () => undefined, START_SETTLE_MS);
  const counters = new ProcCounters();
  const watch = new SentinelWatch(systemClock, (where, error) => console.error(where, error));
  watch.add(new MemoryDrop({ availableMemoryBytes: () => counters.availableMemoryBytes(), smallestLimitBytes: () => LIMIT_BYTES, check: () => undefined }));
  watch.add(new ForkSurge({ forksSinceBoot: () => counters.forksSinceBoot(), surged: () => undefined }));
  const look = await usPerBeat(seconds, () => watch.lookNow());
  counters.close();
  console.log(`a beat with the sentinels' look (fork counter and MemAvailable read): ${look.toFixed(0)} µs; ten a second: ${perMinute(look * LOOKS_PER_SECOND)}`);
    const empty = await usPerBeat(seconds, () => undefined);
  console.log(`an empty ${SENTINEL_PERIOD_MS} ms timer's wake-up: ${empty.toFixed(0)} µs; ten a second: ${perMinute(empty * LOOKS_PER_SECOND)}`);
  const scan = usPerScan();
  console.log(`one scan of ${scan.processes} processes (held stat files, back to back): ${scan.us.toFixed(0)} µs; one a second: ${perMinute(scan.us)} (load average ${load()})`);
  await benchPacedScan();
  await benchSentinelProcess(seconds);
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, "paced-only": { type: "boolean" }, "sentinel-only": { type: "boolean" } } });
  if (values["paced-only"] === true) await benchPacedScan();
  else if (values["sentinel-only"] === true) await benchSentinelProcess(Number(values.seconds ?? DEFAULT_SECONDS));
  else await benchFloor(Number(values.seconds ?? DEFAULT_SECONDS));
}
