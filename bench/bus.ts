// The D-Bus service's figures, on a private bus with the built daemon:
// ListProcesses round trips with 50 policies, how long a crash takes to
// reach a client as ProcessCrashed (and ProcessRestarted), the daemon's
// resident memory before and after 10 000 ListProcesses calls, and the same
// latencies again with a pathological /regex/ in force (a policy never
// running, so its pattern is tested on every scan against a 100 KiB command line).
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { connectClient, killProgramsIn, makeTempDir, plain, startPrivateBus, startSelfheal, testProgram, waitUntil } from "../test/helpers/bus.js";
import { printTable } from "./scan.js";

const POLICIES = 50;
const WARMUP_CALLS = 30;
const MEASURED_CALLS = 300;
const CRASHES = 25;
/** A pause between crashes, so each is alone on the bus. */
const CRASH_GAP_MS = 100;
const READY_TIMEOUT_MS = 30_000;
const BURST_CALLS = 10_000;
const BURST_CONCURRENCY = 50;
/** Longer than the daemon's quiet time before it gives memory back (bus/settle.ts). */
const SETTLE_WAIT_MS = 5000;
const MIB = 1024 * 1024;
/** A pattern that backtracks catastrophically on the long line below: about 2^n steps for n a's. */
const PATHOLOGICAL_MATCH = "/benchpatho.*(a+)+$/";
const LONG_ARGUMENT = `${"a".repeat(100 * 1024)}!`;

export async function benchBus(): Promise<void> {
  await benchScene(false);
  await benchScene(true);
}

// One daemon with 50 running programs (and, with `pathological`, a policy whose pattern backtracks catastrophically).
export async function benchScene(pathological: boolean): Promise<void> {
  const dir = makeTempDir("bench-bus");
  const policies = Array.from({ length: POLICIES }, (_, i) => {
    const program = testProgram(dir, `benchbus${i}`);
    return `[process.benchbus${i}]\ncommand = ["${program}", "600"]\nautostart = true\nmemory_limit_mb = 512\n`;
  }).join("\n");
  const extra = pathological ? `\n[process.patho]\ncommand = ["/nonexistent/patho"]\nmatch = "${PATHOLOGICAL_MATCH}"\n` : "";
  if (pathological) {
    // A shell (a copy in the folder, so that it is ended with the programs) whose command line ends in 100 KiB of a's and a "!" (one argument may hold 128 KiB).
    const shell = join(dir, "benchpatho");
    copyFileSync("/bin/sh", shell);
    spawn(shell, ["-c", "while :; do sleep 1; done", LONG_ARGUMENT], { stdio: "ignore", detached: true }).unref();
  }
  const bus = await startPrivateBus();
  const daemon = await startSelfheal(bus, { config: `[settings]\ninterval = 1\n\n${policies}${extra}` });
  const client = await connectClient(bus);
  const label = pathological ? ` with ${PATHOLOGICAL_MATCH} in force against a 100 KiB command line` : "";
  try {
    const records = async (): Promise<Array<{ name: string; pid: number }>> => plain((await client.call("ListProcesses"))[0]) as Array<{ name: string; pid: number }>;
    await waitUntil(async () => (await records()).filter((record) => record.name !== "patho").every((record) => record.pid > 0), READY_TIMEOUT_MS, () => "the programs did not all start");
    await benchListProcesses(client, label, daemon.pid);
    await benchCrashSignal(client, (await records()).filter((record) => record.name !== "patho"), label);
    if (!pathological) await benchBurstMemory(client, daemon.pid);
  } finally {
    client.close();
    await daemon.cleanup(dir);
    killProgramsIn(dir);
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The daemon's resident memory, and its anonymous part (heap, malloc) and file-backed part (code, mapped files), bytes.
function memoryOf(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
}

/** Bursts in a row on one daemon: growth that adds up burst after burst is held; a first-burst step that stays is the heap's size. */
const BURSTS = 3;

// The daemon's RSS before and after bursts of ListProcesses calls (50 at a time), once it has settled after each.
async function benchBurstMemory(client: Awaited<ReturnType<typeof connectClient>>, pid: number): Promise<void> {
  await new Promise((r) => setTimeout(r, SETTLE_WAIT_MS));
  const first = memoryOf(pid);
  const mb = (bytes: number) => (bytes / MIB).toFixed(1);
  const signed = (bytes: number) => `${bytes >= 0 ? "+" : ""}${mb(bytes)}`;
  console.log(`\nD-Bus: daemon RSS around ${BURSTS} bursts of ${BURST_CALLS} ListProcesses calls (${BURST_CONCURRENCY} at a time), ${SETTLE_WAIT_MS / 1000} s after each`);
  console.log(`before: RSS ${mb(first.rss)} MB (anonymous ${mb(first.anon)} MB, file-backed ${mb(first.file)} MB)`);
  for (let burst = 1; burst <= BURSTS; burst++) {
    const before = memoryOf(pid);
    const start = performance.now();
    for (let i = 0; i < BURST_CALLS; i += BURST_CONCURRENCY) await Promise.all(Array.from({ length: BURST_CONCURRENCY }, () => client.call("ListProcesses")));
    const seconds = (performance.now() - start) / 1000;
    const right = memoryOf(pid);
    await new Promise((r) => setTimeout(r, SETTLE_WAIT_MS));
    const after = memoryOf(pid);
    console.log(
      `burst ${burst} (${seconds.toFixed(1)} s): right after ${mb(right.rss)} MB, later ${mb(after.rss)} MB: ${signed(after.rss - before.rss)} MB ` +
        `(anonymous ${signed(after.anon - before.anon)}, file-backed ${signed(after.file - before.file)}); since the first: ${signed(after.rss - first.rss)} MB`,
    );
  }
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
const CPU_COUNT_CALLS = 2000;

// The CPU time a process has used so far (its threads), ms, from /proc.
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return ((fields[11]! + fields[12]!) * 1000) / TICKS_PER_SECOND;
}

// Round trips of ListProcesses (50 records of 14 keys), by a dbus-next client, one after another; then the CPU
// a call costs the daemon and the client (counts that a loaded machine distorts far less than the round trip).
async function benchListProcesses(client: Awaited<ReturnType<typeof connectClient>>, label: string, daemonPid: number): Promise<void> {
  const time = async (call: () => Promise<unknown>): Promise<number[]> => {
    for (let i = 0; i < WARMUP_CALLS; i++) await call();
    const times: number[] = [];
    for (let i = 0; i < MEASURED_CALLS; i++) {
      const start = performance.now();
      await call();
      times.push(performance.now() - start);
    }
    return times;
  };
  const manager = await client.manager();
  console.log(`\nD-Bus: ListProcesses round trip, ${POLICIES} policies running (private bus, built daemon)${label}`);
  printTable([
    ["ListProcesses, dbus-next message", await time(() => client.call("ListProcesses"))],
    ["ListProcesses, dbus-next proxy", await time(() => manager.ListProcesses!() as Promise<unknown>)],
    ["GetProcess, dbus-next message", await time(() => client.call("GetProcess", "s", ["benchbus0"]))],
    ["Properties.GetAll", await time(() => client.callOn("org.freedesktop.DBus.Properties", "GetAll", "s", ["io.github.SelfHeal1.Manager"]))],
  ]);
  // The daemon's 1 s scans run meanwhile: measured alone over as long a time, and taken off.
  const quietStart = performance.now();
  const quietCpu = cpuMsOf(daemonPid);
  await new Promise((r) => setTimeout(r, 3000));
  const scansPerMs = (cpuMsOf(daemonPid) - quietCpu) / (performance.now() - quietStart);
  const start = performance.now();
  const daemonBefore = cpuMsOf(daemonPid);
  const clientBefore = process.cpuUsage();
  for (let i = 0; i < CPU_COUNT_CALLS; i++) await client.call("ListProcesses");
  const elapsed = performance.now() - start;
  const daemonMs = cpuMsOf(daemonPid) - daemonBefore - scansPerMs * elapsed;
  const clientUsage = process.cpuUsage(clientBefore);
  const perCall = (ms: number) => ((ms / CPU_COUNT_CALLS) * 1000).toFixed(0);
  console.log(
    `CPU per ListProcesses call (${CPU_COUNT_CALLS} calls, /proc ticks of 10 ms): daemon ${perCall(daemonMs)} µs (its scans taken off), ` +
      `this client (dbus-next decoding the reply) ${perCall((clientUsage.user + clientUsage.system) / 1000)} µs`,
  );
}

// SIGKILL one program at a time; time until the client receives ProcessCrashed, then ProcessRestarted.
async function benchCrashSignal(client: Awaited<ReturnType<typeof connectClient>>, running: Array<{ name: string; pid: number }>, label: string): Promise<void> {
  const crashed: number[] = [];
  const restarted: number[] = [];
  for (const { name, pid } of running.slice(0, CRASHES)) {
    await new Promise((r) => setTimeout(r, CRASH_GAP_MS));
    const start = performance.now();
    process.kill(pid, "SIGKILL");
    const crash = await client.signals.waitFor("ProcessCrashed", ([crashedName, crashedPid]) => crashedName === name && crashedPid === pid);
    const restart = await client.signals.waitFor("ProcessRestarted", ([restartedName, oldPid]) => restartedName === name && oldPid === pid);
    crashed.push(crash.at - start);
    restarted.push(restart.at - start);
  }
  console.log(`\nD-Bus: crash (SIGKILL) → signal received by a client (${CRASHES} programs, one crash each)${label}`);
  printTable([
    ["crash → ProcessCrashed", crashed],
    ["crash → ProcessRestarted", restarted],
  ]);
}
