// Races around starting a program, on real processes: the engine with the
// real spawner, /proc scanner, probe and signal guard, its programs copies of
// sleep under names no other process has (only they are ever signalled).
// A stop during a start wins; a policy removed during a spawn leaves nothing
// running; nothing starts once shutdown began (nor while the daemon stops).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Config } from "../../daemon/config/policy.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { ChildHandle, Spawner } from "../../daemon/supervise/spawner.js";
import { parseConfig } from "../../daemon/config/load.js";
import { Daemon } from "../../daemon/daemon.js";
import { systemClock } from "../../daemon/engine/clock.js";
import { Engine } from "../../daemon/engine/engine.js";
import { ProcProbe } from "../../daemon/proc/probe.js";
import { ProcScanner, systemPageSizeBytes } from "../../daemon/proc/scan.js";
import { SignalGuard } from "../../daemon/safety/guard.js";
import { FileCooldownStore } from "../../daemon/state/cooldownStore.js";
import { ChildSpawner } from "../../daemon/supervise/spawner.js";
import { killProgramsIn, makeTempDir, programsIn, testProgram, waitUntil, writeConfig } from "../helpers/bus.js";

const WAIT_MS = 15_000;
let dir = "";
let cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
  killProgramsIn(dir);
  rmSync(dir, { recursive: true, force: true });
});

/** The real spawner, counting the starts asked of it (a start is a fork at once: the count is the truth). */
class CountingSpawner implements Spawner {
  readonly real = new ChildSpawner();
  spawned = 0;
  spawn(policy: Parameters<Spawner["spawn"]>[0]): Promise<ChildHandle> {
    this.spawned++;
    return this.real.spawn(policy);
  }
}

function configOf(toml: string): Config {
  return parseConfig(toml, join(dir, "config.toml"));
}

// An engine on the real machine with one policy running a copy of sleep named `name`.
function realEngine(name: string, extra = "") {
  dir = makeTempDir("races");
  const program = testProgram(dir, name);
  const toml = `[settings]\ninterval = 0.2\n\n[process.${name}]\ncommand = ["${program}", "600"]\nstop_timeout = 5\n${extra}\n`;
  const spawner = new CountingSpawner();
  const engine = new Engine(
    {
      clock: systemClock,
      source: new ProcScanner(),
      probe: new ProcProbe("/proc", systemPageSizeBytes()),
      spawner,
      signaller: new SignalGuard(),
      cooldownStore: new FileCooldownStore(join(dir, "cooldown.json")),
    },
    configOf(toml),
  );
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  cleanups.push(() => engine.shutdown());
  return { engine, spawner, events, toml };
}

describe("a stop while a start is under way", () => {
  it("wins: the new child is ended, the state is stopped, StopProcess returns once it is gone and StartProcess says so", async () => {
    const { engine, events } = realEngine("race-stop");
    engine.start();
    const starting = engine.startProcess("race-stop");
    const stopping = engine.stopProcess("race-stop");
    const [started, stopped] = await Promise.allSettled([starting, stopping]);
    expect(stopped.status).toBe("fulfilled");
    expect(started).toMatchObject({ status: "rejected", reason: { errorName: "Failed", message: "race-stop was stopped while it was starting" } });
    expect(engine.get("race-stop")).toMatchObject({ pid: 0, state: "stopped" });
    // StopProcess returned after the child's end: nothing of it runs.
    expect(programsIn(dir)).toEqual([]);
    expect(events.find((e) => e.kind === "stopped")?.message).toContain("it was stopped while it was starting");
    // Scans go on and nothing comes back.
    engine.tick();
    expect(engine.get("race-stop")).toMatchObject({ pid: 0, state: "stopped" });
  });
});

describe("a policy removed while its program is being spawned", () => {
  it("leaves no program running under it, and StartProcess says why", async () => {
    const { engine } = realEngine("race-gone");
    engine.start();
    const starting = engine.startProcess("race-gone");
    engine.applyConfig(configOf("[settings]\ninterval = 0.2\n"));
    await expect(starting).rejects.toMatchObject({ errorName: "Failed", message: "race-gone was not started: its policy was removed meanwhile" });
    await waitUntil(() => programsIn(dir).length === 0, WAIT_MS, () => `still running: ${programsIn(dir).join(", ")}`);
  });
});

describe("shutdown", () => {
  it("a child that crashes after shutdown began is told, never restarted", async () => {
    const { engine, spawner, events } = realEngine("race-late", 'autostart = true\nrestart = "always"');
    engine.start();
    await waitUntil(() => events.some((e) => e.kind === "started"), WAIT_MS, () => "the program did not start");
    const [pid] = programsIn(dir);
    engine.shutdown();
    process.kill(pid!, "SIGSEGV");
    await waitUntil(() => events.some((e) => e.kind === "crashed"), WAIT_MS, () => "the crash was not told");
    const crashed = events.find((e): e is Extract<EngineEvent, { kind: "crashed" }> => e.kind === "crashed")!;
    expect(crashed).toMatchObject({ pid, signal: "SIGSEGV", willRestart: false });
    expect(crashed.message).toContain("not restarted: selfheal is stopping");
    expect(spawner.spawned).toBe(1);
    expect(programsIn(dir)).toEqual([]);
    await expect(engine.startProcess("race-late")).rejects.toMatchObject({ errorName: "Failed" });
    expect(spawner.spawned).toBe(1);
  });

  it("while the daemon stops its adapters, a program that crashes is not restarted and nothing can be started", async () => {
    dir = makeTempDir("races");
    const program = testProgram(dir, "race-adapter");
    const root = join(dir, "root");
    const configPath = writeConfig(root, `[settings]\ninterval = 0.2\n\n[process.race-adapter]\ncommand = ["${program}", "600"]\nautostart = true\nrestart = "always"\n`);
    // No session bus: desktop notifications are skipped (they are not what this test is about).
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(root, "config"), XDG_STATE_HOME: join(root, "state"), XDG_RUNTIME_DIR: join(root, "runtime") };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const daemon = new Daemon({ configPath, env });
    const events: EngineEvent[] = [];
    daemon.engine.events.subscribe((event) => events.push(event));
    daemon.start();
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await daemon.stop();
    });
    await waitUntil(() => events.some((e) => e.kind === "started"), WAIT_MS, () => "the program did not start");
    const [pid] = programsIn(dir);
    let startWhileStopping: unknown = null;
    // An adapter that takes its time to stop (as the bus service does): the program crashes meanwhile.
    daemon.addAdapter({
      async stop() {
        stopped = true;
        process.kill(pid!, "SIGSEGV");
        await waitUntil(() => events.some((e) => e.kind === "crashed"), WAIT_MS, () => "the crash was not told");
        startWhileStopping = await daemon.engine.startProcess("race-adapter").then(
          () => "started",
          (error: unknown) => error,
        );
      },
    });
    await daemon.stop();
    expect(events.find((e) => e.kind === "crashed")).toMatchObject({ pid, willRestart: false });
    expect(events.some((e) => e.kind === "restarted")).toBe(false);
    expect(startWhileStopping).toMatchObject({ errorName: "Failed", message: "race-adapter is not started: selfheal is stopping" });
    expect(programsIn(dir)).toEqual([]);
  });
});
