// The built daemon with its sentinel process, on real processes: at rest its
// event loop is not woken between scans; the sentinel ends with it; and where
// there is no sentinel (not built, --no-sentinel, or it ended) the daemon
// says so and takes the looks itself, so an adopted program's end is still
// seen between scans; a sentinel that ends is started again, up to a few
// times a minute. The scan interval is far longer than the tests wait, so
// what is seen was seen between scans. Only processes these tests start are signalled.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FORK_SURGE_PER_LOOK } from "../../daemon/engine/sentinels/forkSurge.js";
import { copyBuiltDaemon } from "../helpers/command.js";
import { isRunning, killQuietly, makeTestDir, sentinelsOf, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";

/** No scan comes within the test's waits: the first one is taken at start, the next this many seconds later. */
const LONG_INTERVAL_SEC = 120;
/** What a test waits for something seen between scans (far below the interval; a loaded machine gets room). */
const BETWEEN_SCANS_MS = 20_000;
/** The window over which the daemon's wake-ups are counted. */
const REST_WINDOW_MS = 3000;
/** The engine's own looks come every 100 ms: at least this many wake-ups in the window without the sentinel. */
const LOOKS_IN_WINDOW = REST_WINDOW_MS / 100;

let daemon: RunningDaemon | null = null;
const leftovers: number[] = [];

afterEach(async () => {
  await daemon?.cleanup();
  daemon = null;
  killQuietly(leftovers.splice(0));
});

// Times the daemon's main thread went to sleep and was woken (voluntary context switches): a count, not a clock.
function wakeUps(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, "latin1");
  return Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]);
}

// A daemon watching an adopted program (restart = always) and a program with a memory limit, at long scans.
async function daemonWithAdopted(name: string, options: { args?: string[]; daemonFile?: string } = {}): Promise<{ user: number }> {
  const dir = makeTestDir(name);
  const program = uniqueSleep(dir, name);
  const limited = uniqueSleep(dir, `${name}m`);
  const user = spawn(program, ["600"], { stdio: "ignore" });
  leftovers.push(user.pid!);
  daemon = await startDaemon(
    `[settings]\ninterval = ${LONG_INTERVAL_SEC}\n\n[process.${name}]\ncommand = ["${program}", "600"]\nrestart = "always"\n\n[process.${name}m]\ncommand = ["${limited}", "600"]\nautostart = true\nmemory_limit_mb = 500\n`,
    { dir, ...options },
  );
  await daemon.waitForEvent("adopted", (e) => e.name === name);
  return { user: user.pid! };
}

// The adopted program killed: its end is told and it is started again, before the next scan.
async function endSeenBetweenScans(user: number): Promise<void> {
  process.kill(user, "SIGKILL");
  await daemon!.waitForEvent("exited", (e) => e.pid === user, BETWEEN_SCANS_MS);
  const restarted = await daemon!.waitForEvent("restarted", (e) => e.oldPid === user, BETWEEN_SCANS_MS);
  leftovers.push(restarted.newPid);
}

// The machine's forks since boot (`processes` in /proc/stat): what the sentinel counts.
function forksSinceBoot(): number {
  return Number(/^processes (\d+)$/m.exec(readFileSync("/proc/stat", "latin1"))![1]);
}

// The daemon's wake-ups over the rest window, after its start has settled, and the machine's forks meanwhile.
async function wakeUpsAtRest(): Promise<{ wakeUps: number; forks: number }> {
  const pid = daemon!.process.pid!;
  // Its start's own work (the autostart, the first writes) is done by now.
  await new Promise((done) => setTimeout(done, 1000));
  const before = wakeUps(pid);
  const forksBefore = forksSinceBoot();
  await new Promise((done) => setTimeout(done, REST_WINDOW_MS));
  return { wakeUps: wakeUps(pid) - before, forks: forksSinceBoot() - forksBefore };
}

describe("the daemon with its sentinel", () => {
  it("runs one sentinel, and at rest is not woken between scans; with --no-sentinel its own looks wake it ten times a second", async () => {
    await daemonWithAdopted("shrest");
    expect(sentinelsOf(daemon!.process.pid!)).toHaveLength(1);
    const rest = await wakeUpsAtRest();
    await daemon!.cleanup();
    daemon = null;
    await daemonWithAdopted("shbusy", { args: ["--no-sentinel"] });
    expect(daemon!.stderr()).toContain("selfheal: no sentinel: started with --no-sentinel; the daemon takes its looks between scans itself");
    expect(sentinelsOf(daemon!.process.pid!)).toEqual([]);
    const without = (await wakeUpsAtRest()).wakeUps;
    expect(without).toBeGreaterThanOrEqual(LOOKS_IN_WINDOW / 2);
    // Woken only by what the sentinel tells: a surge of forks on the machine (other work, a test
    // suite beside it) is told once per FORK_SURGE_PER_LOOK forks at most, and wakes the daemon
    // about twice (the report, the fresh look it takes). On a quiet machine that is next to none.
    const surgesTold = Math.min(LOOKS_IN_WINDOW, Math.floor(rest.forks / FORK_SURGE_PER_LOOK));
    expect(rest.wakeUps, `${rest.forks} forks on the machine in the window`).toBeLessThan(LOOKS_IN_WINDOW / 3 + 2 * surgesTold);
  });

  it("sees an adopted program's end between scans through the sentinel", async () => {
    const { user } = await daemonWithAdopted("shpidfd");
    await endSeenBetweenScans(user);
  });

  it("the sentinel ends when the daemon is killed (its stdin closes)", async () => {
    await daemonWithAdopted("shorphan");
    const [sentinel] = sentinelsOf(daemon!.process.pid!);
    expect(sentinel).toBeDefined();
    await daemon!.stop("SIGKILL");
    await waitFor(() => !isRunning(sentinel!), BETWEEN_SCANS_MS, () => `the sentinel (PID ${sentinel}) still runs after its daemon was killed`);
  });
});

describe("without the sentinel", () => {
  it("not built (no C compiler): the daemon says so at start and takes the looks itself", async () => {
    const bare = join(makeTestDir("nosentinel"), "dist");
    mkdirSync(bare);
    const { user } = await daemonWithAdopted("shbare", { daemonFile: copyBuiltDaemon(bare) });
    expect(daemon!.stderr()).toContain(`selfheal: no sentinel: ${join(bare, "selfheal-sentinel")} is missing`);
    expect(daemon!.stderr()).toContain("apt install gcc libc6-dev");
    await endSeenBetweenScans(user);
  });

  it("the sentinel ended once: the daemon says so, starts it again, and the adopted end is seen through the new one", async () => {
    const { user } = await daemonWithAdopted("shagain");
    const [first] = sentinelsOf(daemon!.process.pid!);
    process.kill(first!, "SIGKILL");
    await waitFor(() => daemon!.stderr().includes("selfheal: sentinel: "), BETWEEN_SCANS_MS, () => `nothing said of the sentinel's end:\n${daemon!.stderr()}`);
    expect(daemon!.stderr()).toMatch(/selfheal: sentinel: \S+selfheal-sentinel ended \(SIGKILL\); started again \(1 of \d+ in a minute\)/);
    await waitFor(() => sentinelsOf(daemon!.process.pid!).length === 1, BETWEEN_SCANS_MS, () => "no sentinel runs again");
    const [second] = sentinelsOf(daemon!.process.pid!);
    expect(second).not.toBe(first);
    expect(daemon!.stderr()).not.toContain("from now on");
    // The daemon's own looks did not take over: at rest it is not woken ten times a second.
    const rest = await wakeUpsAtRest();
    expect(rest.wakeUps, `${rest.forks} forks on the machine in the window`).toBeLessThan(LOOKS_IN_WINDOW / 3 + 2 * Math.min(LOOKS_IN_WINDOW, Math.floor(rest.forks / FORK_SURGE_PER_LOOK)));
    // The new sentinel was told the adopted PID: its end is seen between scans.
    await endSeenBetweenScans(user);
  });

  it("the sentinel ended again and again: after its restarts in a minute the daemon takes the looks itself from then on", async () => {
    const { user } = await daemonWithAdopted("shlost");
    for (let ended = 0; !daemon!.stderr().includes("from now on"); ended++) {
      expect(ended, `the daemon still starts its sentinel again after ${ended} ends:\n${daemon!.stderr()}`).toBeLessThan(10);
      await waitFor(() => sentinelsOf(daemon!.process.pid!).length === 1 || daemon!.stderr().includes("from now on"), BETWEEN_SCANS_MS, () => "no sentinel runs again");
      const [sentinel] = sentinelsOf(daemon!.process.pid!);
      if (sentinel !== undefined) process.kill(sentinel, "SIGKILL");
      await waitFor(() => daemon!.stderr().split("selfheal: sentinel: ").length - 1 > ended, BETWEEN_SCANS_MS, () => `nothing said of the sentinel's end:\n${daemon!.stderr()}`);
    }
    expect(daemon!.stderr()).toMatch(/selfheal: sentinel: \S+selfheal-sentinel ended \(SIGKILL\); the daemon takes its looks between scans itself .* from now on/);
    expect(sentinelsOf(daemon!.process.pid!)).toEqual([]);
    await endSeenBetweenScans(user);
  });
});
