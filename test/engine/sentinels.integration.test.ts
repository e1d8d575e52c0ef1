// The sentinels with real processes: the built daemon on a private bus, with a
// scan interval far longer than the test waits, so that what is seen was seen
// between scans. Only processes these tests start are ever signalled.
import { afterEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { isRunning, killQuietly, makeTestDir, startDaemon, uniqueSleep, type RunningDaemon } from "../helpers/daemon.js";

/** No scan comes within the test's waits: the first one is taken at start, the next this many seconds later. */
const LONG_INTERVAL_SEC = 120;
/** What the test waits for an end seen between scans (far below the interval; a loaded machine gets room). */
const BETWEEN_SCANS_MS = 20_000;

let daemon: RunningDaemon | null = null;
const leftovers: number[] = [];

afterEach(async () => {
  await daemon?.cleanup();
  daemon = null;
  killQuietly(leftovers.splice(0));
});

describe("the end of an adopted program", () => {
  it("is told, and under restart = always the program started again, before the next scan", async () => {
    const dir = makeTestDir("adopted-end");
    const program = uniqueSleep(dir, "shadopt");
    // Started by the test, not by selfheal: the daemon adopts it at its first scan.
    const user = spawn(program, ["600"], { stdio: "ignore" });
    leftovers.push(user.pid!);
    daemon = await startDaemon(`[settings]\ninterval = ${LONG_INTERVAL_SEC}\n\n[process.shadopt]\ncommand = ["${program}", "600"]\nrestart = "always"\n`, { dir });
    const adopted = await daemon.waitForEvent("adopted", (e) => e.name === "shadopt");
    expect(adopted.pid).toBe(user.pid);
    user.kill("SIGKILL");
    const exited = await daemon.waitForEvent("exited", (e) => e.pid === user.pid, BETWEEN_SCANS_MS);
    expect(exited).toMatchObject({ statusKnown: false, willRestart: true });
    const restarted = await daemon.waitForEvent("restarted", (e) => e.oldPid === user.pid, BETWEEN_SCANS_MS);
    leftovers.push(restarted.newPid);
    expect(isRunning(restarted.newPid)).toBe(true);
  });
});

describe("a memory limit with the default settings", () => {
  it("stops a program that jumps past it in one step before the next scan, and starts it again", async () => {
    const dir = makeTestDir("memory-jump");
    const jump = resolve(import.meta.dirname, "fixtures/jump.mjs");
    daemon = await startDaemon(
      `[settings]\ninterval = ${LONG_INTERVAL_SEC}\n\n[process.shjump]\ncommand = ["${process.execPath}", "${jump}", "1", "300"]\nmatch = "/jump\\\\.mjs 1 300/"\nautostart = true\nmemory_limit_mb = 200\nscope = "process"\n`,
      { dir },
    );
    const started = await daemon.waitForEvent("started", (e) => e.name === "shjump");
    const violation = await daemon.waitForEvent("violation", (e) => e.pid === started.pid, BETWEEN_SCANS_MS);
    expect(violation).toMatchObject({ resource: "memory", limit: 200 * 1024 * 1024, action: "restart" });
    expect(violation.value).toBeGreaterThan(200 * 1024 * 1024);
    const restarted = await daemon.waitForEvent("restarted", (e) => e.oldPid === started.pid, BETWEEN_SCANS_MS);
    expect(restarted.reason).toBe("violation");
    leftovers.push(restarted.newPid);
  });
});
