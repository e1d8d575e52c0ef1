// The sentinels' figures: how soon an adopted program's end is seen (and,
// under restart = always, the program started again), and what the daemon's
// idle CPU is with 50 programs (adopted, or started by it) at 1 s scans,
// counted in CPU seconds from /proc/PID/stat over a minute (the daemon's and
// its sentinel process's, summed), with the load average beside it. Figures
// only: nothing here passes or fails. With --no-sentinel, every daemon takes
// its looks between scans itself (the way before the sentinel process).
//
//   node --import tsx bench/sentinels.ts [adopted] [memory] [idle] [--no-sentinel]
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { loadavg } from "node:os";
import type { EngineEvent } from "../daemon/engine/events.js";
import { makeTestDir, sentinelsOf, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";
import { LogTail, RUN_ID } from "./engine.js";
import { cpuTicks as processTicks } from "./idle.js";
import { printTable } from "./scan.js";

const ADOPTED_ENDS = 20;
const IDLE_PROGRAMS = 50;
const IDLE_SECONDS = Number(process.env.SELFHEAL_BENCH_IDLE_SECONDS ?? 60);
/** Let the daemon settle (first scans, adoption, JIT) before counting. */
const SETTLE_MS = 5000;
/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ). */
const TICKS_PER_SECOND = 100;
const GAP_MS = 150;
const MEMORY_JUMPS = Number(process.env.SELFHEAL_BENCH_MEMORY_JUMPS ?? 10);
const JUMP = resolve(import.meta.dirname, "../test/engine/fixtures/jump.mjs");
/** The daemons' arguments: --no-sentinel when asked for. */
const DAEMON_ARGS = process.argv.includes("--no-sentinel") ? ["--no-sentinel"] : [];
const MODE = DAEMON_ARGS.length > 0 ? "--no-sentinel" : "with the sentinel process";

export async function benchSentinels(parts: readonly string[] = ["adopted", "memory", "idle"]): Promise<void> {
  if (parts.includes("adopted")) await benchAdoptedEnds();
  if (parts.includes("memory")) await benchMemoryJump();
  if (parts.includes("idle")) {
    await benchIdle("adopted");
    await benchIdle("started");
  }
}

// Programs the user started, adopted by a daemon at 1 s scans under restart = always: kill each, time until the
// exited event and until the restarted one (event times are the daemon's clock, the kill's this process's: both Date.now).
async function benchAdoptedEnds(): Promise<void> {
  const dir = makeTestDir("bench-adopted");
  const users: ChildProcess[] = [];
  const policies: string[] = [];
  for (let i = 0; i < ADOPTED_ENDS; i++) {
    const name = `ba${RUN_ID}x${i}`;
    const program = uniqueSleep(dir, name);
    users.push(spawn(program, ["600"], { stdio: "ignore" }));
    policies.push(`[process.${name}]\ncommand = ["${program}", "600"]\nrestart = "always"\n`);
  }
  const daemon = await startDaemon(`[settings]\ninterval = 1.0\n\n${policies.join("\n")}`, { dir, args: DAEMON_ARGS });
  const seen: number[] = [];
  const restarted: number[] = [];
  const load = loadavg()[0]!;
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "adopted").length >= ADOPTED_ENDS, 20_000, () => "programs were not adopted");
    const log = new LogTail(join(daemon.stateDir, "events.jsonl"));
    for (const user of users) {
      await new Promise((r) => setTimeout(r, GAP_MS + Math.random() * 1000));
      log.skipToEnd();
      const killedAt = Date.now();
      user.kill("SIGKILL");
      const exited = await log.waitFor((e) => e.kind === "exited" && e.pid === user.pid);
      seen.push(exited.timeMs - killedAt);
      const again = await log.waitFor((e) => e.kind === "restarted" && e.oldPid === user.pid);
      restarted.push(again.timeMs - killedAt);
    }
  } finally {
    await daemon.cleanup();
    for (const user of users) user.kill("SIGKILL");
  }
  console.log(`\nan adopted program killed (SIGKILL) → its end told / started again (restart = "always"), 1 s scans, ${MODE}, ${ADOPTED_ENDS} programs, one kill each at a random phase of the scan (ms, clock resolution 1 ms; load average ${load.toFixed(1)})`);
  printTable([
    ["killed → exited event", seen],
    ["killed → restarted event", restarted],
  ]);
}

// A program that allocates and touches 300 MiB in one step past a 200 MB limit, with the default settings
// (1 s scans, memory_sustain): from the moment its RSS passed the limit (stamped by the program) to the
// violation event (the stop signal follows it at once). Each jump comes 2.5 to 3.5 s after a start, past two scans.
async function benchMemoryJump(): Promise<void> {
  const dir = makeTestDir("bench-jump");
  const stamps = join(dir, "crossings");
  const name = `bj${RUN_ID}`;
  const delay = (2.5 + Math.random()).toFixed(3);
  const daemon = await startDaemon(
    `[process.${name}]\ncommand = ["${process.execPath}", "${JUMP}", "${delay}", "300"]\nmatch = "/jump\\\\.mjs ${delay} 300/"\nautostart = true\nmemory_limit_mb = 200\nscope = "process"\n` +
      `env = { SELFHEAL_FIXTURE_CROSS = "200:${stamps}" }\ncooldown = { max_restarts = 1000, window = 60, pause = 1 }\n`,
    { dir, args: DAEMON_ARGS },
  );
  const latencies: number[] = [];
  const load = loadavg()[0]!;
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "violation").length >= MEMORY_JUMPS, MEMORY_JUMPS * 15_000, () => "not enough violations");
    const crossings = new Map(
      existsSync(stamps)
        ? readFileSync(stamps, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split(" ").map(Number) as [number, number])
        : [],
    );
    for (const event of daemon.events()) {
      if (event.kind !== "violation") continue;
      const crossed = crossings.get(event.pid);
      if (crossed !== undefined) latencies.push(event.timeMs - crossed);
    }
  } finally {
    await daemon.cleanup();
  }
  console.log(`\nmemory limit (200 MB) passed in one step (300 MiB allocated and touched) → violation and stop signal, default settings (1 s scans, memory_sustain 0.05 s), ${MODE}, ${latencies.length} jumps (ms; load average ${load.toFixed(1)})`);
  if (latencies.length > 0) printTable([["RSS past the limit → violation", latencies.slice(0, MEMORY_JUMPS)]]);
}

// The daemon's CPU seconds per minute and RSS with 50 idle programs, adopted (started here) or started by it.
async function benchIdle(kind: "adopted" | "started"): Promise<void> {
  const dir = makeTestDir(`bench-idle-${kind}`);
  const users: ChildProcess[] = [];
  const policies: string[] = [];
  for (let i = 0; i < IDLE_PROGRAMS; i++) {
    const name = `bi${RUN_ID}${kind[0]}${i}`;
    const program = uniqueSleep(dir, name);
    if (kind === "adopted") users.push(spawn(program, ["600"], { stdio: "ignore" }));
    policies.push(`[process.${name}]\ncommand = ["${program}", "600"]\nautostart = ${kind === "started"}\ncpu_limit = 90\nmemory_limit_mb = 500\n`);
  }
  const daemon = await startDaemon(`[settings]\ninterval = 1.0\n\n${policies.join("\n")}`, { dir, args: DAEMON_ARGS });
  try {
    const counted: EngineEvent["kind"] = kind === "adopted" ? "adopted" : "started";
    await waitFor(() => daemon.events().filter((e) => e.kind === counted).length >= IDLE_PROGRAMS, 30_000, () => `programs not ${kind}`);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const pid = daemon.process.pid!;
    // The daemon's and its sentinel's: the sentinel's looks are the daemon's cost too.
    const sentinels = sentinelsOf(pid);
    const cpuTicks = (): number => processTicks(pid) + sentinels.reduce((sum, child) => sum + processTicks(child), 0);
    const loadBefore = loadavg()[0]!;
    const before = cpuTicks();
    const start = performance.now();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const cpuSeconds = (cpuTicks() - before) / TICKS_PER_SECOND;
    const minutes = (performance.now() - start) / 60_000;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1] ?? 0);
    console.log(
      `\nthe daemon with ${IDLE_PROGRAMS} idle programs ${kind === "adopted" ? "it adopted" : "it started"} (CPU and memory limits), 1 s scans, ${MODE}, over ${IDLE_SECONDS} s: ` +
        `${(cpuSeconds / minutes).toFixed(3)} CPU s/min, RSS ${(rssKb / 1024).toFixed(1)} MB (load average ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`,
    );
  } finally {
    await daemon.cleanup();
    for (const user of users) user.kill("SIGKILL");
  }
}

if (process.argv[1] === import.meta.filename) {
  const parts = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  await benchSentinels(parts.length > 0 ? parts : undefined);
}
