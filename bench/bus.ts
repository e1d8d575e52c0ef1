// The D-Bus service's figures, on a private bus with the built daemon:
// ListProcesses round trips with 50 policies, and how long a crash takes to
// reach a client as ProcessCrashed (and ProcessRestarted).
import { performance } from "node:perf_hooks";
import { rmSync } from "node:fs";
import { connectClient, killProgramsIn, makeTempDir, plain, startPrivateBus, startSelfheal, testProgram, waitUntil } from "../test/helpers/bus.js";
import { printTable } from "./scan.js";

const POLICIES = 50;
const WARMUP_CALLS = 30;
const MEASURED_CALLS = 300;
const CRASHES = 25;
/** A pause between crashes, so each is alone on the bus. */
const CRASH_GAP_MS = 100;
const READY_TIMEOUT_MS = 30_000;

export async function benchBus(): Promise<void> {
  const dir = makeTempDir("bench-bus");
  const policies = Array.from({ length: POLICIES }, (_, i) => {
    const program = testProgram(dir, `benchbus${i}`);
    return `[process.benchbus${i}]\ncommand = ["${program}", "600"]\nautostart = true\nmemory_limit_mb = 512\n`;
  }).join("\n");
  const bus = await startPrivateBus();
  const daemon = await startSelfheal(bus, { config: `[settings]\ninterval = 1\n\n${policies}` });
  const client = await connectClient(bus);
  try {
    const records = async (): Promise<Array<{ name: string; pid: number }>> => plain((await client.call("ListProcesses"))[0]) as Array<{ name: string; pid: number }>;
    await waitUntil(async () => (await records()).every((record) => record.pid > 0), READY_TIMEOUT_MS, () => "the programs did not all start");
    await benchListProcesses(client);
    await benchCrashSignal(client, await records());
  } finally {
    client.close();
    await daemon.cleanup(dir);
    killProgramsIn(dir);
    await bus.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Round trips of ListProcesses (50 records of 13 keys), by a dbus-next client, one after another.
async function benchListProcesses(client: Awaited<ReturnType<typeof connectClient>>): Promise<void> {
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
  console.log(`\nD-Bus: ListProcesses round trip, ${POLICIES} policies running (private bus, built daemon)`);
  printTable([
    ["ListProcesses, dbus-next message", await time(() => client.call("ListProcesses"))],
    ["ListProcesses, dbus-next proxy", await time(() => manager.ListProcesses!() as Promise<unknown>)],
    ["GetProcess, dbus-next message", await time(() => client.call("GetProcess", "s", ["benchbus0"]))],
    ["Properties.GetAll", await time(() => client.callOn("org.freedesktop.DBus.Properties", "GetAll", "s", ["io.github.SelfHeal1.Manager"]))],
  ]);
}

// SIGKILL one program at a time; time until the client receives ProcessCrashed, then ProcessRestarted.
async function benchCrashSignal(client: Awaited<ReturnType<typeof connectClient>>, running: Array<{ name: string; pid: number }>): Promise<void> {
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
  console.log(`\nD-Bus: crash (SIGKILL) → signal received by a client (${CRASHES} programs, one crash each)`);
  printTable([
    ["crash → ProcessCrashed", crashed],
    ["crash → ProcessRestarted", restarted],
  ]);
}
