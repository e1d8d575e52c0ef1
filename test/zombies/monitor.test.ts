// The zombie monitor on the real engine with a fake clock: zombies found on
// every scan, a new one announced on the scan that first sees it, cleanup on
// request, and on a schedule only when [zombies] cleanup is on.
import { describe, expect, it } from "vitest";
import type { Config, ZombieSettings } from "../../daemon/config/policy.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { Engine } from "../../daemon/engine/engine.js";
import { DEFAULT_ZOMBIE_SETTINGS, ZombieMonitor } from "../../daemon/zombies/monitor.js";
import { FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, sample } from "../helpers/fakes.js";

function setup(zombies: Partial<ZombieSettings> = {}) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const signaller = new RecordingSignaller();
  // A parent ended by SIGTERM takes its zombies with it (init reaps them).
  signaller.onSignal = (pid, signal) => {
    if (signal !== "SIGTERM") return;
    source.remove(pid);
    for (const child of [...source.processes.values()]) if (child.ppid === pid) source.remove(child.pid);
  };
  const config = { settings: { intervalSec: 1 }, policies: new Map(), email: null, zombies: { ...DEFAULT_ZOMBIE_SETTINGS, ...zombies } } as Config;
  const engine = new Engine(
    { clock, source, probe: new FakeProbe(source), spawner: new FakeSpawner(source), signaller, cooldownStore: new MemoryCooldownStore(), uid: 1000 },
    config,
  );
  const monitor = new ZombieMonitor(engine, { signaller, rescan: () => source.scan(), sleep: async () => undefined });
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  return { clock, source, signaller, engine, monitor, events };
}

describe("detection", () => {
  it("with min_age = 0, announces a new zombie on the first scan that sees it, with its parent, once", () => {
    const t = setup({ minAgeSec: 0 });
    t.source.set(sample(100, { comm: "maker" }));
    t.engine.start();
    t.source.set(sample(101, { ppid: 100, state: "Z", comm: "child" }));
    t.clock.advance(1000);
    t.clock.advance(1000);
    const detected = t.events.filter((e) => e.kind === "zombies-detected");
    expect(detected).toHaveLength(1);
    expect(detected[0]).toMatchObject({ count: 1, newPids: [101], timeMs: t.clock.time - 1000 });
    expect(t.monitor.list()).toMatchObject([{ pid: 101, ppid: 100, name: "child", parentName: "maker" }]);
    expect(t.monitor.count).toBe(1);
  });

  it("announces a zombie once it has been seen for min_age, never one reaped before that", () => {
    const t = setup({ minAgeSec: 3 });
    t.source.set(sample(100, { comm: "maker" }), sample(101, { ppid: 100, state: "Z", comm: "quick" }));
    t.engine.start();
    t.clock.advance(1000);
    // Reaped by its parent after a second and a half: never told.
    t.source.remove(101);
    t.source.set(sample(102, { ppid: 100, state: "Z", comm: "slow" }));
    // First seen on this scan; 3 s later it is announced, not before.
    t.clock.advance(1000);
    const firstSeen = t.clock.time;
    while (t.clock.time < firstSeen + 2000) t.clock.advance(1000);
    expect(t.events.filter((e) => e.kind === "zombies-detected")).toEqual([]);
    expect(t.monitor.list().map((zombie) => zombie.pid)).toEqual([102]);
    t.clock.advance(1000);
    const detected = t.events.filter((e) => e.kind === "zombies-detected");
    expect(detected).toMatchObject([{ newPids: [102], count: 1, timeMs: t.clock.time }]);
    expect(detected[0]!.message).toBe("1 zombie process left unreaped for 3 s or more (1 in all): slow (PID 102, parent maker 100)");
    for (let i = 0; i < 5; i++) t.clock.advance(1000);
    expect(t.events.filter((e) => e.kind === "zombies-detected")).toHaveLength(1);
  });

  it("a pid reused by another zombie is announced again, after its own min_age", () => {
    const t = setup({ minAgeSec: 1 });
    t.source.set(sample(100), sample(101, { ppid: 100, state: "Z", startTicks: 5 }));
    t.engine.start();
    t.clock.advance(1000);
    t.source.set(sample(101, { ppid: 100, state: "Z", startTicks: 9 }));
    t.clock.advance(1000);
    expect(t.events.filter((e) => e.kind === "zombies-detected")).toHaveLength(1);
    t.clock.advance(1000);
    expect(t.events.filter((e) => e.kind === "zombies-detected")).toHaveLength(2);
  });
});

describe("cleanup()", () => {
  it("reports reaped and remaining, emits zombies-cleaned, and updates the list", async () => {
    const t = setup({ killParents: true });
    t.source.set(sample(100, { comm: "maker" }), sample(101, { ppid: 100, state: "Z" }), sample(102, { ppid: 100, state: "Z" }));
    t.engine.start();
    expect(t.monitor.count).toBe(2);
    await expect(t.monitor.cleanup()).resolves.toEqual({ reaped: 2, remaining: 0 });
    expect(t.events.find((e) => e.kind === "zombies-cleaned")).toMatchObject({ reaped: 2, remaining: 0 });
    expect(t.monitor.count).toBe(0);
  });

  it("with kill_parents off (the default), only asks the parents", async () => {
    const t = setup();
    t.source.set(sample(100, { comm: "maker" }), sample(101, { ppid: 100, state: "Z" }));
    t.engine.start();
    await expect(t.monitor.cleanup()).resolves.toEqual({ reaped: 0, remaining: 1 });
    expect(t.signaller.sent).toEqual([[100, "SIGCHLD"]]);
  });
});

describe("scheduled cleanup", () => {
  it("does not run unless [zombies] cleanup is on", async () => {
    const t = setup({ killParents: true, cleanupIntervalSec: 2, minAgeSec: 0 });
    t.source.set(sample(100), sample(101, { ppid: 100, state: "Z" }));
    t.engine.start();
    for (let i = 0; i < 10; i++) t.clock.advance(1000);
    await t.monitor.idle();
    expect(t.signaller.sent).toEqual([]);
  });

  it("runs every cleanup_interval and leaves zombies younger than min_age", async () => {
    const t = setup({ cleanup: true, killParents: true, cleanupIntervalSec: 2, minAgeSec: 5 });
    t.source.set(sample(100), sample(101, { ppid: 100, state: "Z" }));
    t.engine.start();
    for (let i = 0; i < 4; i++) t.clock.advance(1000);
    await t.monitor.idle();
    expect(t.signaller.sent).toEqual([]);
    for (let i = 0; i < 3; i++) t.clock.advance(1000);
    await t.monitor.idle();
    expect(t.signaller.sent).toEqual([
      [100, "SIGCHLD"],
      [100, "SIGTERM"],
    ]);
    expect(t.events.find((e) => e.kind === "zombies-cleaned")).toMatchObject({ reaped: 1, remaining: 0 });
  });
});
