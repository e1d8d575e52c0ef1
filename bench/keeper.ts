// The keepers' figures: a crash after the daemon was killed with SIGKILL and
// started again (daemon A starts the programs, daemon B restarts them), and
// what a keeper costs in memory per program, beside what a keeper written in
// perl or in Node.js would cost (the alternatives weighed in the README).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { encodeJob } from "../daemon/keeper/job.js";
import { killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";
import { LogTail, RUN_ID } from "./engine.js";
import { printTable } from "./scan.js";
import { summarize } from "./stats.js";

const PROGRAMS = 25;
const MEMORY_SAMPLES = 10;
const KEEPER = resolve(import.meta.dirname, "../dist/selfheal-keeper");
const KB = 1024;

export async function benchKeeper(): Promise<void> {
  await benchCrashAfterDaemonRestart();
  await benchMemory();
}

// Daemon A starts the programs and is killed with SIGKILL; daemon B starts
// and re-attaches them; then each program is killed with SIGSEGV in turn:
// time until daemon B has started the new process (seen in the event log).
export async function benchCrashAfterDaemonRestart(): Promise<void> {
  const dir = makeTestDir("bench-keeper");
  const policies = Array.from({ length: PROGRAMS }, (_, i) => {
    const name = `bk${RUN_ID}x${i}`;
    const program = uniqueSleep(dir, name);
    return `[process.${name}]\ncommand = ["${program}", "600"]\nautostart = true\n`;
  }).join("\n");
  const daemon = await startDaemon(policies, { dir });
  const latencies: number[] = [];
  const leftovers: number[] = [];
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= PROGRAMS, 20_000, () => "programs did not start");
    const started = daemon.events().flatMap((e) => (e.kind === "started" ? [e.pid] : []));
    await daemon.stop("SIGKILL");
    const reattachStart = performance.now();
    await daemon.restart();
    const readyMs = performance.now() - reattachStart;
    await waitFor(() => daemon.events().filter((e) => e.kind === "reattached").length >= PROGRAMS, 20_000, () => "daemon B did not re-attach every program");
    const log = new LogTail(join(daemon.stateDir, "events.jsonl"));
    for (const pid of started) {
      await new Promise((r) => setTimeout(r, 100));
      log.skipToEnd();
      const start = performance.now();
      process.kill(pid, "SIGSEGV");
      const restarted = await log.waitFor((e) => e.kind === "restarted" && e.oldPid === pid);
      latencies.push(performance.now() - start);
      if (restarted.kind === "restarted") leftovers.push(restarted.newPid);
    }
    console.log(`\ndaemon A started ${PROGRAMS} programs and was killed with SIGKILL; daemon B ready ${readyMs.toFixed(0)} ms after its start, all re-attached`);
  } finally {
    await daemon.cleanup();
    killQuietly(leftovers);
  }
  console.log("then each program killed with SIGSEGV → daemon B started the new process (event log)");
  printTable([["crash → restarted, after a daemon restart", latencies]]);
}

/** Memory of one process from /proc/PID/smaps_rollup, in kB: resident, proportional (shared pages split) and unique. */
interface Footprint {
  rss: number;
  pss: number;
  uss: number;
}

function footprint(pid: number): Footprint {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "latin1");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0);
  return { rss: field("Rss"), pss: field("Pss"), uss: field("Private_Clean") + field("Private_Dirty") };
}

/** A command to start, and what to write to its stdin. */
type Launch = [file: string, args: string[], stdin?: Buffer];

// The job the C keeper reads on stdin (keeper.c): tag, folder, environment, argv.
function keeperJob(tag: string, program: string): Buffer {
  return encodeJob({ tag, cwd: "/", env: ["PATH=/usr/bin:/bin"], argv: [program, "600"] });
}

/** A keeper's work in another language, for comparison: fork, exec the program, wait, write its status to a file. */
const ALTERNATIVES: Array<[string, (dir: string, program: string, i: number) => Launch]> = [
  ["C keeper (selfheal-keeper)", (dir, program, i) => [KEEPER, [dir], keeperJob(`bench${i}`, program)]],
  [
    "the same in perl (no modules)",
    (dir, program, i) => [
      "perl",
      ["-e", 'my $p = fork; if (!$p) { exec { $ARGV[1] } @ARGV[1..$#ARGV] } waitpid($p, 0); open(my $f, ">", $ARGV[0]); print $f "$?\\n";', join(dir, `perl${i}`), program, "600"],
    ],
  ],
  [
    "the same in Node.js",
    (dir, program, i) => [
      process.execPath,
      ["-e", 'const c = require("child_process").spawn(process.argv[2], process.argv.slice(3), { stdio: "ignore" }); c.on("exit", (code, sig) => require("fs").writeFileSync(process.argv[1], `${code} ${sig}`));', join(dir, `node${i}`), program, "600"],
    ],
  ],
];

// Start MEMORY_SAMPLES keepers of each kind, each holding a sleeping program; their median footprint.
async function benchMemory(): Promise<void> {
  const dir = makeTestDir("bench-keeper-memory");
  const program = uniqueSleep(dir, `bm${RUN_ID}`);
  const records = join(dir, "records");
  mkdirSync(records);
  const rows: string[] = [];
  for (const [label, command] of ALTERNATIVES) {
    const keepers: ChildProcess[] = [];
    try {
      for (let i = 0; i < MEMORY_SAMPLES; i++) {
        const [file, args, job] = command(records, program, i);
        const keeper = spawn(file, args, { stdio: ["pipe", "ignore", "ignore"], detached: true });
        keeper.stdin!.end(job ?? "");
        keepers.push(keeper);
      }
      // Wait until each holds its program, then let start-up settle.
      await waitFor(() => keepers.every((keeper) => childrenOf(keeper.pid!).length > 0), 20_000, () => `${label}: not every program started`);
      await new Promise((r) => setTimeout(r, 500));
      const prints = keepers.map((keeper) => footprint(keeper.pid!));
      const median = (key: keyof Footprint): string => (summarize(prints.map((p) => p[key])).median / KB).toFixed(2);
      rows.push(`${label.padEnd(30)}  ${median("rss").padStart(6)}  ${median("pss").padStart(6)}  ${median("uss").padStart(6)}`);
    } finally {
      for (const keeper of keepers) killQuietly([...childrenOf(keeper.pid!), keeper.pid!]);
    }
  }
  console.log(`\nmemory of one keeper, ${MEMORY_SAMPLES} running side by side, each holding a sleeping program (median, MB, /proc/PID/smaps_rollup)`);
  console.log(`${"keeper".padEnd(30)}  ${"RSS".padStart(6)}  ${"PSS".padStart(6)}  ${"USS".padStart(6)}`);
  for (const row of rows) console.log(row);
}

// The direct children of pid (from each process's stat line).
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}
