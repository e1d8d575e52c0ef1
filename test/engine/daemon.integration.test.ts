// The engine with real processes: the built daemon on a private bus, real
// children, the event log read back. Only processes these tests start are
// ever signalled (unique program names, matched by name).
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isRunning, killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";
import { DEFAULT_WAIT_MS } from "../helpers/bus.js";

/** Five daemon starts and five saved restarts: on a loaded machine each may take its full wait. */
const KILL_ROUNDS_TIMEOUT_MS = 5 * 2 * DEFAULT_WAIT_MS;

const HOG = resolve(import.meta.dirname, "fixtures/hog.mjs");
let daemon: RunningDaemon | null = null;
const leftovers: number[] = [];

afterEach(async () => {
  await daemon?.cleanup();
  daemon = null;
  killQuietly(leftovers.splice(0));
});

// The restarts in the window that cooldown.json holds now (0 while it does not exist); it must always parse.
function persistedRestarts(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  const state = JSON.parse(text) as { cooldowns: Record<string, { restarts: number[] }> };
  return state.cooldowns.shflap?.restarts.length ?? 0;
}

function policyToml(name: string, command: string[], extra = ""): string {
  return `[process.${name}]\ncommand = ${JSON.stringify(command)}\nautostart = true\n${extra}\n`;
}

describe("restarts", () => {
  it("restarts a program killed with SIGSEGV, and the event names SIGSEGV", async () => {
    const dir = makeTestDir("segv");
    const program = uniqueSleep(dir, "shsegv");
    daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n${policyToml("shsegv", [program, "300"])}`, { dir });
    const started = await daemon.waitForEvent("started", (e) => e.name === "shsegv");
    process.kill(started.pid, "SIGSEGV");
    const crashed = await daemon.waitForEvent("crashed", (e) => e.pid === started.pid);
    expect(crashed).toMatchObject({ signal: "SIGSEGV", exitCode: null, statusKnown: true, willRestart: true });
    const restarted = await daemon.waitForEvent("restarted", (e) => e.oldPid === started.pid);
    expect(restarted.reason).toBe("crash");
    expect(isRunning(restarted.newPid)).toBe(true);
    leftovers.push(restarted.newPid);
  });

  it("does not restart a program that exits 0", async () => {
    const dir = makeTestDir("exit0");
    const program = uniqueSleep(dir, "shexit0");
    daemon = await startDaemon(policyToml("shexit0", [program, "0.3"]), { dir });
    const exited = await daemon.waitForEvent("exited", (e) => e.name === "shexit0");
    expect(exited).toMatchObject({ exitCode: 0, signal: null, statusKnown: true, willRestart: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect(daemon.events().filter((e) => e.kind === "started" || e.kind === "restarted")).toHaveLength(1);
  });

  it("holds a crash loop in cooldown through the pause, then starts it again", async () => {
    daemon = await startDaemon(
      `[settings]\ninterval = 0.2\n\n${policyToml("shloop", ["sh", "-c", "sleep 0.1; exit 3 # shloop"], 'match = "/exit 3 # shloop/"\ncooldown = { max_restarts = 3, window = 30, pause = 3 }')}`,
    );
    const cooldown = await daemon.waitForEvent("cooldown-started", (e) => e.name === "shloop");
    expect(cooldown).toMatchObject({ restarts: 3 });
    expect(cooldown.seconds).toBeCloseTo(3, 0);
    const startsBefore = daemon.events().filter((e) => (e.kind === "started" || e.kind === "restarted") && e.name === "shloop").length;
    expect(startsBefore).toBe(4);
    // Stays down through the pause...
    await new Promise((r) => setTimeout(r, 2000));
    expect(daemon.events().filter((e) => (e.kind === "started" || e.kind === "restarted") && e.name === "shloop")).toHaveLength(4);
    // ...then comes back in a fresh window.
    await daemon.waitForEvent("cooldown-ended", (e) => e.name === "shloop");
    const back = await daemon.waitForEvent("started", (e) => e.name === "shloop" && e.reason === "cooldown-ended");
    expect(back.timeMs - cooldown.timeMs).toBeGreaterThanOrEqual(2900);
  });
});

describe("limits", () => {
  it("restarts a program that allocates past its memory limit", async () => {
    daemon = await startDaemon(
      `[settings]\ninterval = 0.5\n\n${policyToml("memhog", [process.execPath, HOG, "20", "400"], 'match = "/hog\\\\.mjs 20 400/"\nmemory_limit_mb = 100\nsustain = 1\nscope = "process"')}`,
    );
    const started = await daemon.waitForEvent("started", (e) => e.name === "memhog");
    const violation = await daemon.waitForEvent("violation", (e) => e.name === "memhog");
    expect(violation).toMatchObject({ resource: "memory", limit: 100 * 1024 * 1024, action: "restart", pid: started.pid });
    expect(violation.value).toBeGreaterThan(100 * 1024 * 1024);
    const restarted = await daemon.waitForEvent("restarted", (e) => e.name === "memhog");
    expect(restarted).toMatchObject({ oldPid: started.pid, reason: "violation" });
    leftovers.push(restarted.newPid);
  });

  it("kills a program that ignores SIGTERM after the stop timeout", async () => {
    daemon = await startDaemon(
      `[settings]\ninterval = 0.5\n\n${policyToml("stubborn", [process.execPath, HOG, "50", "200", "--ignore-term"], 'match = "/hog\\\\.mjs 50 200/"\nmemory_limit_mb = 100\nsustain = 1\nstop_timeout = 1\non_violation = "restart"\nrestart = "never"')}`,
    );
    const started = await daemon.waitForEvent("started", (e) => e.name === "stubborn");
    const violation = await daemon.waitForEvent("violation", (e) => e.name === "stubborn");
    const stopped = await daemon.waitForEvent("stopped", (e) => e.pid === started.pid);
    expect(stopped.forced).toBe(true);
    expect(stopped.timeMs - violation.timeMs).toBeGreaterThanOrEqual(900);
    expect(isRunning(started.pid)).toBe(false);
    const restarted = await daemon.waitForEvent("restarted", (e) => e.name === "stubborn");
    leftovers.push(restarted.newPid);
  });
});

describe("the daemon itself", () => {
  it("survives kill -9 in the middle of restarts with a cooldown state that loads and still holds", async () => {
    const dir = makeTestDir("kill9");
    const config = `[settings]\ninterval = 0.2\n\n${policyToml("shflap", ["sh", "-c", "sleep 0.05; exit 7 # shflap"], 'restart = "always"\nmatch = "/exit 7 # shflap/"\ncooldown = { max_restarts = 50, window = 60, pause = 60 }')}`;
    daemon = await startDaemon(config, { dir });
    const statePath = join(daemon.stateDir, "cooldown.json");
    for (let round = 0; round < 5; round++) {
      // The cooldown state is saved in the background, off the restart path: a
      // restart is kept across a kill -9 once its save has landed. Wait for this
      // run to have saved one, then kill it at once, while later restarts' saves
      // may still be under way (a different moment of the cycle each round).
      const persistedBefore = persistedRestarts(statePath);
      await waitFor(() => persistedRestarts(statePath) > persistedBefore, DEFAULT_WAIT_MS, () => `no restart of this daemon run was saved (round ${round})`);
      await new Promise((r) => setTimeout(r, round * 37));
      await daemon.stop("SIGKILL");
      expect(persistedRestarts(statePath)).toBeGreaterThan(persistedBefore);
      await daemon.restart();
    }
    // Persisted restarts survived every kill: the window keeps filling across daemon runs.
    expect(persistedRestarts(statePath)).toBeGreaterThanOrEqual(5);
    expect(daemon.events().filter((e) => e.kind === "restarted").length).toBeGreaterThanOrEqual(5);
  }, KILL_ROUNDS_TIMEOUT_MS);

  it("keeps a cooldown across a daemon restart: the program stays down", async () => {
    const config = `[settings]\ninterval = 0.2\n\n${policyToml("shheld", ["sh", "-c", "sleep 0.05; exit 9 # shheld"], 'match = "/exit 9 # shheld/"\ncooldown = { max_restarts = 2, window = 30, pause = 30 }')}`;
    daemon = await startDaemon(config);
    await daemon.waitForEvent("cooldown-started", (e) => e.name === "shheld");
    await daemon.stop("SIGTERM");
    const before = daemon.events().length;
    await daemon.restart();
    await new Promise((r) => setTimeout(r, 1500));
    const after = daemon.events().slice(before);
    expect(after.filter((e) => (e.kind === "started" || e.kind === "restarted") && e.name === "shheld")).toEqual([]);
  });

  it("leaves the programs running when stopped with SIGTERM", async () => {
    const dir = makeTestDir("leave");
    const program = uniqueSleep(dir, "shleave");
    daemon = await startDaemon(policyToml("shleave", [program, "300"]), { dir });
    const started = await daemon.waitForEvent("started", (e) => e.name === "shleave");
    leftovers.push(started.pid);
    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(isRunning(started.pid)).toBe(true);
  });

  it("rejects a bad config edit with file, line and key, and the old policies keep working", async () => {
    const dir = makeTestDir("badcfg");
    const program = uniqueSleep(dir, "shkeep");
    const good = `[settings]\ninterval = 0.2\n\n${policyToml("shkeep", [program, "300"])}`;
    daemon = await startDaemon(good, { dir });
    const started = await daemon.waitForEvent("started", (e) => e.name === "shkeep");
    daemon.writeConfig(good + "memory_limit_mb = -5\n");
    const rejected = await daemon.waitForEvent("config-rejected");
    expect(rejected.error).toContain(`${daemon.configPath}:8: process.shkeep.memory_limit_mb`);
    process.kill(started.pid, "SIGABRT");
    const restarted = await daemon.waitForEvent("restarted", (e) => e.oldPid === started.pid);
    leftovers.push(restarted.newPid);
  });
});
