// Anomaly and zombie figures: how long after its onset each anomaly is
// reported, how fast a fork bomb is contained and how much of it was reached,
// how soon a new zombie is seen, and what the detectors cost per scan. The
// daemon runs in a PID namespace of its own (it ends processes by rule), on
// the fault injectors of test/fixtures. Figures only: nothing here passes or fails.

import type { Config, Policy } from "../daemon/config/policy.js";
import type { Guard } from "../daemon/engine/engine.js";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { spawn, type ChildProcess } from "node:child_process";
import { AnomalyMonitor } from "../daemon/anomaly/monitor.js";
import { DEFAULT_ANOMALY_SETTINGS } from "../daemon/anomaly/settings.js";
import { normalisePolicy, RawPolicySchema } from "../daemon/config/schema.js";
import { Engine } from "../daemon/engine/engine.js";
import { ProcProbe } from "../daemon/proc/probe.js";
import { ProcScanner } from "../daemon/proc/scan.js";
import { ChildSpawner } from "../daemon/supervise/spawner.js";
import { ZombieMonitor } from "../daemon/zombies/monitor.js";
import { FIXTURES, sandboxProblem, sleep, startSandbox, waitUntil, type AnomalyEvent, type Sandbox } from "../test/fixtures/sandbox.js";
import { summarize } from "./stats.js";

const NODE = process.execPath;
/** Leakers (and spikers) per run, started at staggered times for several samples. */
const LEAK_SAMPLES = 3;
/** The first CPU spike starts this long after the daemon, the others one after another. */
const SPIKE_FIRST_SEC = 12;
const SPIKE_SEC = 12;
const ZOMBIE_SAMPLES = 8;
const ZOMBIE_EVERY_MS = 2500;
/** Runs per scan interval (20 at the default 1 s, for a worst case); each starts the bomb at another phase of the scan cycle, spread evenly over it. */
const BOMB_RUNS: Record<number, number> = { 1: Number(process.env.SELFHEAL_BENCH_BOMB_RUNS ?? 20), 0.25: 5 };
/** SELFHEAL_BENCH_BOMB_INTERVALS="1" measures the 1 s scans alone. */
const BOMB_INTERVALS_SEC = (process.env.SELFHEAL_BENCH_BOMB_INTERVALS ?? "1,0.25").split(",").map(Number);
/** The default threshold, as crossings are counted from the spawn log. */
const BOMB_THRESHOLD = DEFAULT_ANOMALY_SETTINGS.forkBomb.maxDescendants;
/** Ticks run for the cost figures; the first WARM_TICKS fill the leak windows and are not counted. */
const COST_TICKS = 200;
const WARM_TICKS = 120;
const COST_POLICIES = 20;
const FILLERS = 300;
const FILLER_SLEEP_SECONDS = "600";

// Prints every figure in turn.
export async function benchAnomaly(): Promise<void> {
  console.log("\nAnomalies and zombies");
  const problem = sandboxProblem();
  if (problem) {
    console.log(`  detection, containment and zombie figures skipped: ${problem}`);
  } else {
    await detectionFigures();
    await forkBombFigures();
  }
  await costFigures();
}

// One daemon, default thresholds: leakers, spikers, the false-positive injectors and zombie makers, each onset stamped.
async function detectionFigures(): Promise<void> {
  const stamps = mkdtempSync(join(tmpdir(), "selfheal-bench-stamps-"));
  // min_age = 0: a zombie is announced on the scan that first sees it (the default waits 60 s).
  const policies: string[] = ["[settings]\ninterval = 1\n\n[zombies]\nmin_age = 0\n"];
  for (let i = 0; i < LEAK_SAMPLES; i++) {
    const delay = 3 + i * 2.3;
    policies.push(policyToml(`leaker${i}`, [NODE, `${FIXTURES}/memory.mjs`, "leak", "5", "150", String(delay), "45"], { SELFHEAL_FIXTURE_ONSET: join(stamps, `leak-${i}`) }));
    // One spike at a time: on a small machine, overlapping spikes would share the cores.
    const spikeAt = SPIKE_FIRST_SEC + i * (SPIKE_SEC + 2);
    policies.push(
      policyToml(`spiker${i}`, [NODE, `${FIXTURES}/cpu.mjs`, "spike", String(spikeAt), String(SPIKE_SEC), String(spikeAt + SPIKE_SEC + 2)], {
        SELFHEAL_FIXTURE_ONSET: join(stamps, `spike-${i}`),
      }),
    );
  }
  policies.push(policyToml("levelling", [NODE, `${FIXTURES}/memory.mjs`, "level-off", "5", "4", "3", "45"]));
  policies.push(policyToml("sawtooth", [NODE, `${FIXTURES}/memory.mjs`, "saw-tooth", "5", "4", "3", "45"]));
  policies.push(policyToml("bursty", [NODE, `${FIXTURES}/cpu.mjs`, "bursts", "12", "2", "45"]));
  const sandbox = await startSandbox(policies.join("\n"), "bench-detect");
  try {
    for (let i = 0; i < ZOMBIE_SAMPLES; i++) {
      sandbox.run(`SELFHEAL_FIXTURE_ONSET=${sandbox.file(`zombie-${i}`)} exec perl ${FIXTURES}/zombie-maker.pl 1 30 zmaker${i}`);
      await sleep(ZOMBIE_EVERY_MS);
    }
    const lastSpikeEnd = (SPIKE_FIRST_SEC + LEAK_SAMPLES * (SPIKE_SEC + 2)) * 1000;
    await waitUntil(() => sandbox.anomalies().filter((e) => e.type === "cpu_spike").length >= LEAK_SAMPLES, lastSpikeEnd, () => "").catch(() => undefined);
    const anomalies = sandbox.anomalies();
    const latencies = (type: string, prefix: string): number[] =>
      Array.from({ length: LEAK_SAMPLES }, (_, i) => firstLatency(stamps, anomalies, type, `${prefix}${i}`, i)).filter((ms): ms is number => ms !== null);
    const leak = latencies("memory_leak", "leaker");
    const spike = latencies("cpu_spike", "spiker");
    const zombies = zombieLatencies(sandbox);
    const quiet = (name: string) => anomalies.filter((e) => e.name === name).length;
    console.log("  detection latency from onset (interval 1 s, default thresholds), ms:");
    printRow("5 MB/s leak", leak, LEAK_SAMPLES);
    printRow("CPU spike (sustain 10 scans)", spike, LEAK_SAMPLES);
    printRow("new zombie (min_age = 0)", zombies, ZOMBIE_SAMPLES);
    console.log(`  false alarms over ${Math.round((Date.now() - sandboxStart(sandbox)) / 1000)} s: level-off ${quiet("levelling")}, saw-tooth ${quiet("sawtooth")}, CPU bursts ${quiet("bursty")}`);
  } finally {
    await sandbox.close();
    rmSync(stamps, { recursive: true, force: true });
  }
}

// The policy's first anomaly of a type, from the onset its program stamped.
function firstLatency(stamps: string, anomalies: AnomalyEvent[], type: string, name: string, index: number): number | null {
  const event = anomalies.find((e) => e.name === name && e.type === type);
  const onset = readStamp(join(stamps, `${type === "memory_leak" ? "leak" : "spike"}-${index}`));
  return event && onset !== null ? event.timeMs - onset : null;
}

// From each zombie maker's stamp to the zombies-detected event that names its zombie.
function zombieLatencies(sandbox: Sandbox): number[] {
  const detections = sandbox.events().filter((e) => e.kind === "zombies-detected");
  return Array.from({ length: ZOMBIE_SAMPLES }, (_, i) => {
    const onset = readStamp(sandbox.file(`zombie-${i}`));
    const event = detections.find((e) => e.message.includes(`zmaker${i} `));
    return event && onset !== null ? event.timeMs - onset : null;
  }).filter((ms): ms is number => ms !== null);
}

/** The bomb's daemons take their looks between scans themselves with --no-sentinel (`bench/anomaly.ts bomb --no-sentinel`). */
const BOMB_DAEMON_ARGS = process.argv.includes("--no-sentinel") ? ["--no-sentinel"] : [];

// Fresh daemons with a 200-child bomb as a policy: from crossing the threshold to the verified end.
export async function forkBombFigures(): Promise<void> {
  const mode = BOMB_DAEMON_ARGS.length > 0 ? "--no-sentinel" : "with the sentinel process";
  console.log(`  fork bomb (200 children, threshold ${BOMB_THRESHOLD}), ${mode}, ms (load average ${loadavg()[0]!.toFixed(1)}):`);
  for (const interval of BOMB_INTERVALS_SEC) {
    const runs = BOMB_RUNS[interval] ?? 5;
    const detect: number[] = [];
    const contain: number[] = [];
    const stopped: number[] = [];
    const total: number[] = [];
    const reached: number[] = [];
    let survivors = 0;
    let undated = 0;
    for (let run = 0; run < runs; run++) {
      const figures = await oneBomb(interval, 1 + ((run + 0.5) / runs) * interval);
      if (!figures) continue;
      contain.push(figures.containMs);
      stopped.push(figures.stoppedMs);
      reached.push(figures.reached);
      survivors += figures.survivors;
      if (figures.detectMs === null) {
        undated++;
        continue;
      }
      detect.push(figures.detectMs);
      // The containment counts from the look's start, which came lookMs before the scan that dates the detection.
      total.push(figures.detectMs - figures.lookMs + figures.containMs);
    }
    console.log(`    interval ${interval} s, ${runs} runs:`);
    printRow("  crossing → detected (fork-surge look or scan)", detect, runs);
    printRow("  detected → every member stopped", stopped, runs);
    printRow("  detected → none left (containment)", contain, runs);
    printRow("  crossing → contained", total, runs);
    if (reached.length > 0) console.log(`      processes reached: ${reached.join(", ")}; survivors in all runs: ${survivors}`);
    // The log is written by each parent after its fork: a bomb stopped quickly may leave fewer lines than the threshold.
    if (undated > 0) console.log(`      ${undated} runs contained before ${BOMB_THRESHOLD} forks were logged: their crossing cannot be dated (counted in containment only)`);
  }
}

// A 200-child bomb as a policy's program (started by the daemon, forking after delaySec); its figures.
async function oneBomb(intervalSec: number, delaySec: number): Promise<BombFigures | null> {
  const stamps = mkdtempSync(join(tmpdir(), "selfheal-bench-bomb-"));
  const log = join(stamps, "spawns");
  const command = ["bash", `${FIXTURES}/fork-bomb.sh`, "200", "30", delaySec.toFixed(3)];
  const config = `[settings]\ninterval = ${intervalSec}\n\n${policyToml("bomb", command, { SELFHEAL_FIXTURE_SPAWNLOG: log })}`;
  const sandbox = await startSandbox(config, "bench-bomb", { args: BOMB_DAEMON_ARGS });
  try {
    return await measureBomb(sandbox, log);
  } finally {
    await sandbox.close();
    rmSync(stamps, { recursive: true, force: true });
  }
}

/** One bomb's figures; detectMs is null when the spawn log does not reach the threshold. */
interface BombFigures {
  detectMs: number | null;
  /** From the look that found the bomb to none left. */
  containMs: number;
  /** From the same look to every member stopped (the kill follows at once). */
  stoppedMs: number;
  /** From the look's start to the scan that found the bomb (a peek first, after a surge of forks). */
  lookMs: number;
  reached: number;
  survivors: number;
}

// Reads the crossing time from the spawn log and the figures from the anomaly event.
async function measureBomb(sandbox: Sandbox, log: string): Promise<BombFigures | null> {
  let event: AnomalyEvent;
  try {
    event = await sandbox.waitForEvent("anomaly", (e) => e.type === "fork_bomb", 20_000);
  } catch {
    console.log("    (a run found no fork bomb)");
    return null;
  }
  const stamps = existsSync(log)
    ? readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => Number(line) * 1000)
        .sort((a, b) => a - b)
    : [];
  const crossing = stamps[BOMB_THRESHOLD - 1];

  return { detectMs: crossing === undefined ? null : event.timeMs - crossing, containMs: event.figures.containMs ?? 0, lookMs: event.figures.lookMs ?? 0, stoppedMs: event.figures.stoppedMs ?? 0, reached: event.figures.reached ?? 0, survivors: event.figures.survivors ?? 0 };
}

// What the anomaly and zombie checks cost per scan, in this process, over the real process table (no signal is ever sent).
async function costFigures(): Promise<void> {
  const fillers = await fill(FILLERS);
  try {
    const count = new ProcScanner().scan().processes.size;
    console.log(`  detector cost per scan (${count} processes; ${COST_TICKS - WARM_TICKS} scans after ${WARM_TICKS} to fill the windows), ms:`);
    printRow(`${COST_POLICIES} policies, global watch off`, costOf(false, 50));
    printRow(`${COST_POLICIES} policies, global watch on (default: processes over 50 MB)`, costOf(true, 50));
    printRow(`${COST_POLICIES} policies, global watch on, every process followed`, costOf(true, 0));
  } finally {
    for (const child of fillers) child.kill("SIGKILL");
  }
}

// Runs the real engine and monitors on the real table with a clock advanced 1 s a scan; the detectors' time per scan.
function costOf(watchAll: boolean, minRssMb: number): number[] {
  let now = Date.now();
  const scanner = new ProcScanner({ nowMs: () => now });
  const policies = new Map<string, Policy>();
  for (let i = 0; i < COST_POLICIES; i++) {
    const name = `filler${i}`;
    policies.set(name, normalisePolicy(name, RawPolicySchema.parse({ match: "sleep", scope: "tree" })));
  }
  const config: Config = {
    settings: { intervalSec: 1 },
    policies,
    email: null,
    anomaly: { ...DEFAULT_ANOMALY_SETTINGS, watchAll, watchAllMinRssBytes: minRssMb * 1024 * 1024 },
  };
  const refuseAll: Guard = {
    kill: (pid) => {
      throw new Error(`the benchmark never signals (PID ${pid})`);
    },
    refusalFor: () => null,
  };
  const engine = new Engine(
    {
      clock: { now: () => now, setTimeout: () => ({ cancel: () => undefined }), setInterval: () => ({ cancel: () => undefined }) },
      source: scanner,
      probe: new ProcProbe(),
      spawner: new ChildSpawner(),
      signaller: refuseAll,
      cooldownStore: { load: () => ({}), save: () => undefined, saveSync: () => undefined },
    },
    config,
  );
  const monitor = new AnomalyMonitor(engine, { signaller: refuseAll, rescan: () => scanner.scan() });
  const zombies = new ZombieMonitor(engine, { signaller: refuseAll, rescan: () => scanner.scan() });
  const costs: number[] = [];
  for (let tick = 0; tick < COST_TICKS; tick++) {
    const snapshot = scanner.scan();
    const start = performance.now();
    monitor.observe(snapshot);
    zombies.observe(snapshot);
    if (tick >= WARM_TICKS) costs.push(performance.now() - start);
    // The engine's own tick is left out: only the detectors are timed.
    if (tick === 0) engine.tick();
    now += 1000;
  }
  return costs;
}

// Starts sleeping children until the table holds about target processes.
async function fill(target: number): Promise<ChildProcess[]> {
  const missing = Math.max(0, target - new ProcScanner().scan().processes.size);
  const children = Array.from({ length: missing }, () => spawn("sleep", [FILLER_SLEEP_SECONDS], { stdio: "ignore" }));
  await sleep(500);
  return children;
}

// A [process.NAME] table starting command (matched by its whole command line), with extra environment.
function policyToml(name: string, command: string[], env: Record<string, string> = {}): string {
  const envLine = Object.keys(env).length === 0 ? "" : `env = { ${Object.entries(env).map(([key, value]) => `${key} = ${JSON.stringify(value)}`).join(", ")} }\n`;
  const match = `/${command.slice(1).join(" ").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/`;
  return `[process.${name}]\ncommand = ${JSON.stringify(command)}\nmatch = ${JSON.stringify(match)}\nautostart = true\nrestart = "never"\nscope = "process"\n${envLine}\n`;
}

function readStamp(file: string): number | null {
  try {
    const value = Number(readFileSync(file, "utf8").trim());
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

function sandboxStart(sandbox: Sandbox): number {
  const first = sandbox.events()[0];
  return first?.timeMs ?? Date.now();
}

// One line of figures: count, min, median, p95, mean, max (and how many expected samples are missing).
function printRow(label: string, values: number[], expected = values.length): void {
  const missing = expected > values.length ? `  (${expected - values.length} of ${expected} not reported)` : "";
  if (values.length === 0) {
    console.log(`    ${label.padEnd(62)} no samples${missing}`);
    return;
  }
  const s = summarize(values);
  const f = (v: number) => v.toFixed(v < 10 ? 2 : 0).padStart(7);
  console.log(`    ${label.padEnd(62)} n=${String(s.count).padStart(2)} min ${f(s.min)} median ${f(s.median)} p95 ${f(s.p95)} mean ${f(s.mean)} max ${f(Math.max(...values))}${missing}`);
}

if (process.argv[1] === import.meta.filename) {
  if (process.argv.includes("bomb")) await forkBombFigures();
  else await benchAnomaly();
}
