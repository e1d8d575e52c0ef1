// The daemon at rest: started as users start it (the built file, its #! line's
// flags, a private session bus), 50 running programs with CPU and memory
// limits, 1 s scans. CPU seconds a minute (utime + stime from /proc; the
// daemon's and its sentinel process's, summed: the sentinel's looks are part
// of the daemon's cost) and resident memory (VmRSS), and, with --profile, where the CPU time goes
// (`--cpu-prof` over the same window, self time summed by function).
// The first minutes include V8 optimising the scan's code (compiles on its
// worker threads, for a function called once a second, come late): --warm
// waits that long first, for the figure of a daemon that has run a while.
//
// --no-sentinel runs the daemon with its looks between scans in Node.js (the
// way before the sentinel process), for runs alternating with and without it.
//
//   node --import tsx bench/idle.ts [--seconds 60] [--warm 0] [--profile] [--no-sentinel]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { killQuietly, makeTestDir, sentinelsOf, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";

const WATCHED = 50;
const DEFAULT_SECONDS = 60;
/** Time for the autostarts and the first scans to settle before the window opens. */
const SETTLE_MS = 3000;
/** Clock ticks a second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
const PROFILE_TOP = 25;
/** How often the window samples the daemon's resident memory. */
const SAMPLE_EVERY_MS = 1000;
/** How long the 50 autostarts may take on a loaded machine. */
const STARTS_TIMEOUT_MS = 120_000;

export interface IdleFigures {
  /** The daemon's and its sentinel's, summed (utime + stime). */
  cpuSecondsPerMinute: number;
  /** The same from schedstat (every thread's run time, in ns: counted rather than sampled at clock ticks). */
  scheduledSecondsPerMinute: number;
  /** Of it, the daemon's main thread (the event loop; the rest is V8's and libuv's worker threads and the sentinel). */
  mainThreadSecondsPerMinute: number;
  /** Times the main thread was woken, a second (its voluntary context switches). */
  mainWakeUpsPerSecond: number;
  /** Of it, the sentinel process's (0 without one). */
  sentinelCpuSecondsPerMinute: number;
  /** The sentinel's resident memory, MB (0 without one). */
  sentinelRssMb: number;
  /** Run with --no-sentinel. */
  noSentinel: boolean;
  rssMb: number;
  /** Of rssMb: file-backed (the node binary's pages) and anonymous. */
  rssFileMb: number;
  rssAnonMb: number;
  /** RSS sampled every second over the window: the collector's saw-tooth moves it by several MB. */
  rssSampled: { meanMb: number; minMb: number; maxMb: number; anonMeanMb: number };
  seconds: number;
  /** Seconds the daemon ran at rest before the window opened (after the settle). */
  warmSeconds: number;
  /** The .cpuprofile written when asked for one. */
  profile?: string;
  /** The measured window within the profile: ms since the daemon was started. */
  window: { fromMs: number; toMs: number };
}

// utime + stime of a process, in clock ticks.
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

// CPU time of a process, every thread, in ns (schedstat's first field: counted, not sampled at clock ticks).
export function cpuNs(pid: number): number {
  let sum = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return sum;
}

// The main thread's run time (ns) and voluntary context switches (each one a sleep that ended in a wake-up).
function mainThread(pid: number): { ns: number; wakeUps: number } {
  const ns = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "latin1").split(" ")[0]);
  const wakeUps = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, "latin1"))?.[1] ?? 0);
  return { ns, wakeUps };
}

// Resident memory of a process, MB: all of it, the file-backed part (the node binary's pages, shared
// with every Node.js process) and the anonymous part (the daemon's own heap and buffers).
function residentMb(pid: number): { rss: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const field = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: field("VmRSS"), file: field("RssFile"), anon: field("RssAnon") };
}

// The 1, 5 and 15 minute load averages, as uptime prints them.
function loadAverage(): string {
  return readFileSync("/proc/loadavg", "latin1").split(" ").slice(0, 3).join(", ");
}

// Start the daemon with 50 idle programs and measure it over `seconds`.
export async function measureIdleDaemon(seconds: number, profile: boolean, warmSeconds = 0, noSentinel = false): Promise<IdleFigures> {
  const dir = makeTestDir("bench-idle");
  const profileDir = profile ? mkdtempSync(join(tmpdir(), "selfheal-cpuprof-")) : undefined;
  const policies = Array.from({ length: WATCHED }, (_, i) => {
    const program = uniqueSleep(dir, `idle${i}`);
    return `[process.idle${i}]\ncommand = ["${program}", "3600"]\nautostart = true\ncpu_limit = 90\nmemory_limit_mb = 500\n`;
  }).join("\n");
  const nodeFlags = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const launched = performance.now();
  const daemon = await startDaemon(`[settings]\ninterval = 1.0\n\n${policies}`, { dir, nodeFlags, args: noSentinel ? ["--no-sentinel"] : [] });
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= WATCHED, STARTS_TIMEOUT_MS, () => "programs did not start");
    const pid = daemon.process.pid!;
    await new Promise((r) => setTimeout(r, SETTLE_MS + warmSeconds * 1000));
    const sentinels = sentinelsOf(pid);
    if (!noSentinel && sentinels.length !== 1) throw new Error(`the daemon runs ${sentinels.length} sentinel processes, not one:\n${daemon.stderr()}`);
    const sentinelTicks = (): number => sentinels.reduce((sum, child) => sum + cpuTicks(child), 0);
    const scheduledNs = (): number => cpuNs(pid) + sentinels.reduce((sum, child) => sum + cpuNs(child), 0);
    const before = cpuTicks(pid);
    const sentinelBefore = sentinelTicks();
    const scheduledBefore = scheduledNs();
    const mainBefore = mainThread(pid);
    const start = performance.now();
    const samples: Array<{ rss: number; anon: number }> = [];
    const sampler = setInterval(() => samples.push(residentMb(pid)), SAMPLE_EVERY_MS);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(sampler);
    const sentinelSeconds = (sentinelTicks() - sentinelBefore) / TICKS_PER_SECOND;
    const scheduledSeconds = (scheduledNs() - scheduledBefore) / 1e9;
    const mainAfter = mainThread(pid);
    const cpuSeconds = (cpuTicks(pid) - before) / TICKS_PER_SECOND + sentinelSeconds;
    const minutes = (performance.now() - start) / 60_000;
    const window = { fromMs: start - launched, toMs: performance.now() - launched };
    const resident = residentMb(pid);
    samples.push(resident);
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const rssSampled = {
      meanMb: mean(samples.map((sample) => sample.rss)),
      minMb: Math.min(...samples.map((sample) => sample.rss)),
      maxMb: Math.max(...samples.map((sample) => sample.rss)),
      anonMeanMb: mean(samples.map((sample) => sample.anon)),
    };
    const figures: IdleFigures = {
      cpuSecondsPerMinute: cpuSeconds / minutes,
      scheduledSecondsPerMinute: scheduledSeconds / minutes,
      mainThreadSecondsPerMinute: (mainAfter.ns - mainBefore.ns) / 1e9 / minutes,
      mainWakeUpsPerSecond: (mainAfter.wakeUps - mainBefore.wakeUps) / (minutes * 60),
      sentinelCpuSecondsPerMinute: sentinelSeconds / minutes,
      sentinelRssMb: sentinels.reduce((sum, child) => sum + residentMb(child).rss, 0),
      noSentinel,
      rssMb: resident.rss,
      rssFileMb: resident.file,
      rssAnonMb: resident.anon,
      rssSampled,
      seconds,
      warmSeconds,
      window,
    };
    if (profileDir !== undefined) {
      // The profile is written when the daemon ends of its own accord (SIGTERM), not on SIGKILL.
      await daemon.stop("SIGTERM");
      const file = readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile"));
      if (file !== undefined) figures.profile = join(profileDir, file);
    }
    return figures;
  } finally {
    const started = daemon.events().flatMap((e) => (e.kind === "started" ? [e.pid] : []));
    await daemon.cleanup();
    killQuietly(started);
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of a profile. */
export interface FunctionTime {
  name: string;
  selfMs: number;
  share: number;
}

// Self time by function (name and place), largest first, of the samples within
// `window` (ms since the profile began; the daemon's start and end left out);
// the sampled time is summed from the profile's time deltas, idle time left out.
export function summariseCpuProfile(path: string, window: { fromMs: number; toMs: number }): { totalMs: number; functions: FunctionTime[] } {
  const profile = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let totalMs = 0;
  let atMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    atMs += ms;
    const frame = byId.get(id)!.callFrame;
    if (atMs < window.fromMs || atMs > window.toMs || frame.functionName === "(idle)") return;
    const place = frame.url === "" ? "" : ` ${frame.url.replace(/^.*\//, "")}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || "(anonymous)"}${place}`;
    totalMs += ms;
    self.set(key, (self.get(key) ?? 0) + ms);
  });
  const functions = [...self.entries()].map(([name, selfMs]) => ({ name, selfMs, share: selfMs / totalMs })).sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs, functions };
}

// Print the idle figures (and, with a profile, the functions that take the most self time).
export function printIdleFigures(figures: IdleFigures): void {
  const warm = figures.warmSeconds > 0 ? `, after ${figures.warmSeconds} s at rest` : "";
  console.log(`\nthe daemon watching ${WATCHED} running programs (CPU and memory limits), 1 s scans, over ${figures.seconds} s${warm} (load average ${loadAverage()})`);
  const how = figures.noSentinel ? "--no-sentinel: the looks between scans in the daemon" : `the daemon and its sentinel process together (the sentinel ${figures.sentinelCpuSecondsPerMinute.toFixed(3)} of it, RSS ${figures.sentinelRssMb.toFixed(1)} MB)`;
  console.log(`CPU: ${figures.cpuSecondsPerMinute.toFixed(3)} CPU seconds per minute (schedstat: ${figures.scheduledSecondsPerMinute.toFixed(3)}), ${how}`);
  console.log(`of it the daemon's main thread ${figures.mainThreadSecondsPerMinute.toFixed(3)} CPU s/min, woken ${figures.mainWakeUpsPerSecond.toFixed(1)} times a second; V8's and libuv's threads the rest`);
  console.log(`RSS: ${figures.rssMb.toFixed(1)} MB (${figures.rssFileMb.toFixed(1)} MB file-backed, the node binary's pages shared with every Node.js process; ${figures.rssAnonMb.toFixed(1)} MB anonymous)`);
  const sampled = figures.rssSampled;
  console.log(`RSS sampled every second over the window: mean ${sampled.meanMb.toFixed(1)} MB (${sampled.minMb.toFixed(1)} to ${sampled.maxMb.toFixed(1)}), anonymous mean ${sampled.anonMeanMb.toFixed(1)} MB`);
  if (figures.profile === undefined) return;
  const { totalMs, functions } = summariseCpuProfile(figures.profile, figures.window);
  console.log(`\nCPU profile over the same ${figures.seconds} s (--cpu-prof), ${totalMs.toFixed(0)} ms sampled, self time by function:`);
  for (const { name, selfMs, share } of functions.slice(0, PROFILE_TOP)) {
    console.log(`${selfMs.toFixed(1).padStart(9)} ms ${(share * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
}

export async function benchIdle(): Promise<void> {
  printIdleFigures(await measureIdleDaemon(DEFAULT_SECONDS, false));
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { seconds: { type: "string" }, warm: { type: "string" }, profile: { type: "boolean" }, keep: { type: "boolean" }, "no-sentinel": { type: "boolean" } } });
  const figures = await measureIdleDaemon(Number(values.seconds ?? DEFAULT_SECONDS), values.profile === true, Number(values.warm ?? 0), values["no-sentinel"] === true);
  printIdleFigures(figures);
  if (figures.profile !== undefined && values.keep !== true) rmSync(join(figures.profile, ".."), { recursive: true, force: true });
}
