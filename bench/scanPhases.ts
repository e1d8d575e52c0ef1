// Where the idle daemon's 1 s scan spends its CPU, phase by phase: the daemon run in
// this process as `selfheal daemon` runs it (the engine with its keepers and sentinel
// process, the detectors, the history, the D-Bus service on a private bus), 50 idle
// programs with CPU and memory limits (as bench/idle.ts sets them up), 1 s scans.
// Each phase of the scan is wrapped with process.cpuUsage() (the process's CPU, every
// thread: a phase's figure also takes what V8's threads did meanwhile) and summed over
// the window; the main thread's whole run time (its schedstat) over the same window,
// divided by the scans, shows what lies outside the phases (timers, the sentinel's
// pipe, the collector's pauses).
//
// Under tsx every closure made is also named at run time (esbuild's keepNames), which the
// built daemon does not do: the detectors' phases then read higher than the daemon's. For
// the built code's figures, bundle it first (bench/bundle.mjs) and run the bundle.
//
//   node --import tsx bench/scanPhases.ts [--seconds 60] [--warm 30]
//   node bench/bundle.mjs bench/scanPhases.ts && node dist/bench-scanPhases.mjs [--seconds 60] [--warm 30]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { attachBusService } from "../daemon/bus/attach.js";
import { Daemon } from "../daemon/daemon.js";
import { killProgramsIn, startPrivateBus } from "../test/helpers/bus.js";
import { makeTestDir, uniqueSleep, waitFor } from "../test/helpers/daemon.js";

const WATCHED = 50;
const DEFAULT_SECONDS = 60;
const DEFAULT_WARM_SECONDS = 30;
const STARTS_TIMEOUT_MS = 120_000;
const NS_PER_US = 1000;
/** Scans replayed back to back after the window (see measureScanPhases). */
const REPLAYS = 600;
const WHOLE_TICK = "whole tick (synchronous)";
const PROPERTIES = "D-Bus properties (after the scan)";
const US_PER_SECOND = 1e6;
const SECONDS_PER_MINUTE = 60;

/** CPU µs summed by phase, and how many scans they cover. */
class PhaseCounts {
  readonly us = new Map<string, number>();
  counting = false;

  add(phase: string, us: number): void {
    if (this.counting) this.us.set(phase, (this.us.get(phase) ?? 0) + us);
  }

  // `fn` wrapped: its CPU counted under `phase`.
  wrap<A extends unknown[], R>(phase: string, fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const before = process.cpuUsage();
      try {
        return fn(...args);
      } finally {
        const used = process.cpuUsage(before);
        this.add(phase, used.user + used.system);
      }
    };
  }
}

// The main thread's run time so far, ns (schedstat's first field).
function mainThreadNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "latin1").split(" ")[0]);
}

// Every thread's run time so far, ns.
function allThreadsNs(): number {
  let sum = 0;
  for (const task of readdirSync("/proc/self/task")) {
    try {
      sum += Number(readFileSync(`/proc/self/task/${task}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return sum;
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
}

/** The observers of a scan in the order the daemon subscribes them (daemon.ts, then the D-Bus service). */
const OBSERVER_NAMES = ["zombies", "anomaly detectors", "history", "D-Bus refresh scheduled"];

// Reach a private member of an object (the bench wraps the engine's own steps; nothing is changed but the wrapping).
function member<T>(object: object, name: string): T {
  return (object as Record<string, T>)[name]!;
}

export async function measureScanPhases(seconds: number, warmSeconds: number): Promise<void> {
  const dir = makeTestDir("bench-phases");
  const bus = await startPrivateBus();
  const configDir = join(dir, "config", "selfheal");
  mkdirSync(configDir, { recursive: true });
  const configPath = join(configDir, "config.toml");
  const policies = Array.from({ length: WATCHED }, (_, i) => {
    const program = uniqueSleep(dir, `idle${i}`);
    return `[process.idle${i}]\ncommand = ["${program}", "3600"]\nautostart = true\ncpu_limit = 90\nmemory_limit_mb = 500\n`;
  }).join("\n");
  writeFileSync(configPath, `[settings]\ninterval = 1.0\n\n${policies}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_STATE_HOME: join(dir, "state"),
    XDG_RUNTIME_DIR: join(dir, "runtime"),
    DBUS_SESSION_BUS_ADDRESS: bus.address,
  };
  mkdirSync(join(dir, "runtime"), { recursive: true, mode: 0o700 });
  const daemon = new Daemon({ configPath, env });
  const counts = new PhaseCounts();
  try {
    const attached = await attachBusService(daemon, { env });
    if (attached.status !== "attached") throw new Error(`no D-Bus service: ${attached.status === "no-bus" ? attached.message : attached.message}`);
    const engine = daemon.engine as unknown as object;
    // The scan's steps, wrapped in place (the engine calls them through `this`).
    const source = member<{ scan: (focus?: ReadonlySet<number>) => unknown }>(member<object>(engine, "deps"), "source");
    source.scan = counts.wrap("read /proc (source.scan)", source.scan.bind(source));
    const lookout = member<{ refresh: () => void } | null>(engine, "lookout");
    if (lookout) lookout.refresh = counts.wrap("telling the sentinel (lookout.refresh)", lookout.refresh.bind(lookout));
    const observers = member<Set<(snapshot: unknown) => void>>(engine, "scanObservers");
    const wrapped = [...observers].map((observer, index) => counts.wrap(`observer: ${OBSERVER_NAMES[index] ?? `#${index}`}`, observer));
    observers.clear();
    for (const observer of wrapped) observers.add(observer);
    const tick = member<() => unknown>(engine, "tick").bind(engine);
    let scans = 0;
    (engine as Record<string, unknown>).tick = counts.wrap(WHOLE_TICK, () => {
      if (counts.counting) scans++;
      return tick();
    });
    const service = attached.service as unknown as object;
    const refresh = member<() => void>(service, "refreshProperties").bind(service);
    (service as Record<string, unknown>).refreshProperties = counts.wrap(PROPERTIES, refresh);

    let started = 0;
    daemon.engine.events.subscribe((event) => {
      if (event.kind === "started") started++;
    });
    await daemon.start();
    await waitFor(() => started >= WATCHED, STARTS_TIMEOUT_MS, () => "programs did not start");
    await new Promise((r) => setTimeout(r, warmSeconds * 1000));
    const load = loadAverage();
    const [mainBefore, allBefore] = [mainThreadNs(), allThreadsNs()];
    counts.counting = true;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    counts.counting = false;
    const mainUs = (mainThreadNs() - mainBefore) / NS_PER_US;
    const allUs = (allThreadsNs() - allBefore) / NS_PER_US;
    const perMinute = (us: number): string => `${((us / seconds) * SECONDS_PER_MINUTE / US_PER_SECOND).toFixed(3)} CPU s/min`;
    console.log(`\none scan's CPU by phase (process.cpuUsage() around each), ${scans} scans over ${seconds} s after ${warmSeconds} s at rest, ${WATCHED} programs with CPU and memory limits (load average ${load} → ${loadAverage()})`);
    const { tickUs, refreshUs } = printPhases(counts, scans);
    const perScan = (us: number): string => `${(us / scans).toFixed(0).padStart(6)} µs`;
    console.log(`${perScan(mainUs)}  the main thread, all of it (schedstat), ${perMinute(mainUs)}: outside the tick and the properties ${perScan(mainUs - tickUs - refreshUs).trim()}`);
    console.log(`${perScan(allUs)}  every thread of this process (schedstat), ${perMinute(allUs)} (the sentinel process not counted)`);

    // Replayed: the work of a scan after its read, REPLAYS times back to back on the last scan's
    // table (each a second later than the one before, as the next scan would be), the timers off:
    // counted apart from the read, the wake-ups and, mostly, the machine's other load.
    member<{ cancel(): void }>(engine, "tickTimer").cancel();
    const last = daemon.engine.lastSnapshot!;
    let timeMs = last.timeMs;
    source.scan = counts.wrap("read (replayed: the last scan's table again)", () => ({ timeMs: (timeMs += 1000), processes: last.processes, childrenOf: (pid: number) => last.childrenOf(pid) }));
    counts.us.clear();
    scans = 0;
    counts.counting = true;
    const replayStart = process.cpuUsage();
    for (let i = 0; i < REPLAYS; i++) {
      member<() => unknown>(engine, "tick").call(engine);
      // The properties' refresh runs once the scan's turn is over.
      await new Promise((r) => setImmediate(r));
    }
    const replayUsed = process.cpuUsage(replayStart);
    counts.counting = false;
    console.log(`\nthe same after the read, replayed ${REPLAYS} times on the last scan's table (${last.processes.size} processes), every thread (process.cpuUsage())`);
    printPhases(counts, scans);
    console.log(`${((replayUsed.user + replayUsed.system) / scans).toFixed(0).padStart(6)} µs  a replayed scan, all of it (the event loop's turn included)`);
  } finally {
    await daemon.stop();
    killProgramsIn(dir);
    await bus.stop();
  }
}

// Print the phases' µs per scan; returns the whole tick's and the properties' totals.
function printPhases(counts: PhaseCounts, scans: number): { tickUs: number; refreshUs: number } {
  const perScan = (us: number): string => `${(us / scans).toFixed(0).padStart(6)} µs`;
  const tickUs = counts.us.get(WHOLE_TICK) ?? 0;
  const refreshUs = counts.us.get(PROPERTIES) ?? 0;
  let inTick = 0;
  for (const [phase, us] of counts.us) {
    if (phase === WHOLE_TICK || phase === PROPERTIES) continue;
    inTick += us;
    console.log(`${perScan(us)}  ${phase}`);
  }
  console.log(`${perScan(tickUs - inTick)}  the rest of the tick: each policy's checks (liveness, limits, adoption), learnIdentities, the list of units for the observers`);
  console.log(`${perScan(tickUs)}  ${WHOLE_TICK}`);
  console.log(`${perScan(refreshUs)}  ${PROPERTIES}`);
  return { tickUs, refreshUs };
}

export async function benchScanPhases(): Promise<void> {
  await measureScanPhases(DEFAULT_SECONDS, DEFAULT_WARM_SECONDS);
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, warm: { type: "string" } } });
  await measureScanPhases(Number(values.seconds ?? DEFAULT_SECONDS), Number(values.warm ?? DEFAULT_WARM_SECONDS));
}
