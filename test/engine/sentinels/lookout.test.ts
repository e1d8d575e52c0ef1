// The engine with a lookout (the sentinel process's port), with a fake clock
// and a stand-in lookout that records what it is told and reports what a test
// makes it report: the engine then takes no 100 ms looks of its own, tells the
// lookout what to watch after scans and starts, acts on its reports, and takes
// the looks itself again once the lookout fails. The real sentinel process is
// tested in test/sentinel/.
import { describe, expect, it } from "vitest";
import { Engine } from "../../../daemon/engine/engine.js";
import type { EngineEvent } from "../../../daemon/engine/events.js";
import type { Config, Policy } from "../../../daemon/config/policy.js";
import type { Lookout, LookoutReports, LookoutWatch } from "../../../daemon/engine/ports.js";
import { FORK_SURGE_PER_LOOK } from "../../../daemon/engine/sentinels/forkSurge.js";
import { MEMORY_DROP_FRACTION } from "../../../daemon/engine/sentinels/memoryDrop.js";
import { SENTINEL_PERIOD_MS } from "../../../daemon/engine/sentinels/watch.js";
import { FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../../helpers/fakes.js";

const MB = 1024 * 1024;
const INTERVAL_SEC = 10;

class StandInLookout implements Lookout {
  reports: LookoutReports | null = null;
  told: LookoutWatch[] = [];
  stopped = false;
  start(reports: LookoutReports): void {
    this.reports = reports;
  }
  watch(what: LookoutWatch): void {
    this.told.push(structuredClone(what) as LookoutWatch);
  }
  stop(): void {
    this.stopped = true;
  }
  get last(): LookoutWatch {
    return this.told.at(-1)!;
  }
}

function setup(policies: Policy[]) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  const signaller = new RecordingSignaller();
  const probe = new FakeProbe(source);
  const reads = { rss: 0 };
  const counting = { exists: (pid: number) => probe.exists(pid), isAlive: (pid: number, ticks: number) => probe.isAlive(pid, ticks), rssBytes: (pid: number) => (reads.rss++, probe.rssBytes(pid)) };
  const forks = { count: 0 };
  const counters = { forksSinceBoot: () => forks.count, availableMemoryBytes: () => 8 * 1024 * MB };
  const lookout = new StandInLookout();
  const config = { settings: { intervalSec: INTERVAL_SEC }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: counting, counters, lookout, spawner, signaller, cooldownStore: new MemoryCooldownStore(), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  const surges: number[] = [];
  engine.onForkSurge((count) => surges.push(count));
  return { clock, source, spawner, signaller, engine, events, lookout, reads, forks, surges };
}

describe("the engine with a lookout", () => {
  it("takes no 100 ms looks of its own: an adopted end, a fork surge and memory are left to the lookout", async () => {
    const t = setup([policy("gedit"), policy("hog", { autostart: true, memoryLimitBytes: 200 * MB, scope: "process" })]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    await settle();
    const reads = t.reads.rss;
    t.source.remove(42);
    t.forks.count += 1000;
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.events.some((e) => e.kind === "exited")).toBe(false);
    expect(t.surges).toEqual([]);
    expect(t.reads.rss).toBe(reads);
  });

  it("tells the lookout the adopted programs' ends to watch (PID and start time), the fork mark and the memory limits", async () => {
    const t = setup([policy("gedit"), policy("hog", { autostart: true, memoryLimitBytes: 200 * MB, scope: "process" })]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    await settle();
    const hog = t.spawner.last.pid;
    expect(t.lookout.last.forksPerSurge).toBe(FORK_SURGE_PER_LOOK);
    expect(t.lookout.last.memoryDropBytes).toBe(200 * MB * MEMORY_DROP_FRACTION);
    expect(t.lookout.last.ends).toEqual([{ pid: 42, startTicks: 420 }]);
    // Just started (no scan has seen it twice): read every look.
    expect(t.lookout.last.memory).toEqual([{ pid: hog, pids: [hog], limitBytes: 200 * MB, near: true }]);
    // Two scans far below its limit: read only after a sharp drop.
    t.engine.tick();
    t.engine.tick();
    expect(t.lookout.last.memory).toEqual([{ pid: hog, pids: [hog], limitBytes: 200 * MB, near: false }]);
    // Past half its limit at a scan: near again.
    t.source.set({ ...t.source.processes.get(hog)!, rssBytes: 120 * MB });
    t.engine.tick();
    expect(t.lookout.last.memory[0]!.near).toBe(true);
  });

  it("tells the lookout of a program started between scans at once, not at the next scan", async () => {
    const t = setup([policy("hog", { memoryLimitBytes: 200 * MB, scope: "process" })]);
    t.engine.start();
    expect(t.lookout.last.memory).toEqual([]);
    await t.engine.startProcess("hog");
    expect(t.lookout.last.memory.map((group) => group.pid)).toEqual([t.spawner.last.pid]);
  });

  it("a tree's memory group holds its descendants as the last scan knew them", async () => {
    const t = setup([policy("tree", { autostart: true, memoryLimitBytes: 200 * MB, scope: "tree" })]);
    t.engine.start();
    await settle();
    const root = t.spawner.last.pid;
    t.source.set(sample(900, { ppid: root }), sample(901, { ppid: 900 }));
    t.engine.tick();
    expect(t.lookout.last.memory[0]!.pids).toEqual([root, 900, 901]);
  });

  it("an end the lookout reports is acted on at once: told, and under restart = always started again", async () => {
    const t = setup([policy("gedit", { restart: "always" })]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.source.remove(42);
    t.lookout.reports!.ended(42);
    await settle();
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ name: "gedit", pid: 42, statusKnown: false, willRestart: true });
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ name: "gedit", oldPid: 42, newPid: t.spawner.last.pid });
    // The new process is the engine's own child: its end comes with its status, not from the lookout.
    expect(t.lookout.last.ends).toEqual([]);
  });

  it("an end reported for a PID no adopted program has is ignored", () => {
    const t = setup([policy("gedit")]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.lookout.reports!.ended(43);
    expect(t.events.some((e) => e.kind === "exited")).toBe(false);
  });

  it("a memory group over its limit is read and judged at once, and acted on after memory_sustain", async () => {
    const t = setup([policy("hog", { autostart: true, memoryLimitBytes: 200 * MB, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.engine.tick();
    t.engine.tick();
    t.source.set({ ...t.source.processes.get(pid)!, rssBytes: 300 * MB });
    const reads = t.reads.rss;
    t.lookout.reports!.overLimit(pid, 300 * MB);
    expect(t.reads.rss).toBe(reads + 1);
    t.clock.advance(50);
    await settle();
    expect(t.events.filter((e) => e.kind === "violation")).toMatchObject([{ name: "hog", pid, resource: "memory", value: 300 * MB }]);
    expect(t.signaller.sent).toEqual([[pid, "SIGTERM"]]);
  });

  it("fork surges the lookout reports reach the fork-bomb watchers", () => {
    const t = setup([policy("gedit")]);
    t.engine.start();
    t.lookout.reports!.forks(57);
    expect(t.surges).toEqual([57]);
  });

  it("once the lookout fails, the engine takes the looks itself: an adopted end is seen within one period", () => {
    const t = setup([policy("gedit")]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.lookout.reports!.failed("it ended");
    const told = t.lookout.told.length;
    t.source.remove(42);
    t.clock.advance(SENTINEL_PERIOD_MS);
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ name: "gedit", pid: 42 });
    // Nothing more is sent to a lookout that failed.
    t.engine.tick();
    expect(t.lookout.told.length).toBe(told);
  });

  it("is stopped with the engine", () => {
    const t = setup([policy("gedit")]);
    t.engine.start();
    t.engine.shutdown();
    expect(t.lookout.stopped).toBe(true);
  });
});
