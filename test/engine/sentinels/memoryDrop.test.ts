// Memory limits between scans, with a fake clock: a sharp drop of the memory
// available to the system makes the next look probe every limited process,
// and a memory breach acts once it has lasted memory_sustain (time), while
// CPU's sustain stays in scans.
import { describe, expect, it } from "vitest";
import { Engine } from "../../../daemon/engine/engine.js";
import type { EngineEvent } from "../../../daemon/engine/events.js";
import type { Config, Policy } from "../../../daemon/config/policy.js";
import { MEMORY_DROP_FRACTION } from "../../../daemon/engine/sentinels/memoryDrop.js";
import { SENTINEL_PERIOD_MS } from "../../../daemon/engine/sentinels/watch.js";
import { FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, settle } from "../../helpers/fakes.js";

const MB = 1024 * 1024;
const GB = 1024 * MB;
const INTERVAL_SEC = 10;

function setup(policies: Policy[]) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  const signaller = new RecordingSignaller();
  const memory = { available: 8 * GB as number | null };
  const reads = { rss: 0 };
  const probe = new FakeProbe(source);
  const counting = { exists: (pid: number) => probe.exists(pid), isAlive: (pid: number, ticks: number) => probe.isAlive(pid, ticks), rssBytes: (pid: number) => (reads.rss++, probe.rssBytes(pid)) };
  const counters = { forksSinceBoot: () => null, availableMemoryBytes: () => memory.available };
  const config = { settings: { intervalSec: INTERVAL_SEC }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: counting, counters, spawner, signaller, cooldownStore: new MemoryCooldownStore(), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  const violations = () => events.filter((e) => e.kind === "violation");
  return { clock, source, spawner, signaller, engine, events, violations, memory, reads };
}

// A program started by the engine, far below its 200 MB limit, seen by two scans (so not "at risk").
async function calmProgram(t: ReturnType<typeof setup>): Promise<number> {
  t.engine.start();
  await settle();
  const pid = t.spawner.last.pid;
  t.engine.tick();
  t.engine.tick();
  return pid;
}

describe("memory limits between scans", () => {
  const limited = (fields: Partial<Policy> = {}) => policy("hog", { autostart: true, memoryLimitBytes: 200 * MB, scope: "process", ...fields });

  it("a one-step jump from far below the limit is probed at the look that sees available memory drop, and acted on after memory_sustain", async () => {
    const t = setup([limited()]);
    const pid = await calmProgram(t);
    t.clock.advance(SENTINEL_PERIOD_MS);
    const readsBefore = t.reads.rss;
    t.source.set({ ...t.source.processes.get(pid)!, rssBytes: 300 * MB });
    t.memory.available! -= 300 * MB;
    t.clock.advance(SENTINEL_PERIOD_MS);
    expect(t.reads.rss).toBeGreaterThan(readsBefore);
    expect(t.violations()).toEqual([]);
    t.clock.advance(50);
    await settle();
    expect(t.violations()).toMatchObject([{ name: "hog", pid, resource: "memory", value: 300 * MB }]);
    expect(t.violations()[0]!.message).toContain("for 0.05 s");
    expect(t.signaller.sent).toEqual([[pid, "SIGTERM"]]);
  });

  it("without a drop of available memory, a process far below its limit is not read between scans", async () => {
    const t = setup([limited()]);
    const pid = await calmProgram(t);
    t.clock.advance(SENTINEL_PERIOD_MS);
    const readsBefore = t.reads.rss;
    t.source.set({ ...t.source.processes.get(pid)!, rssBytes: 300 * MB });
    t.memory.available! -= 200 * MB * MEMORY_DROP_FRACTION - MB;
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.reads.rss).toBe(readsBefore);
    expect(t.violations()).toEqual([]);
  });

  it("a breach that ends before memory_sustain has passed is not acted on", async () => {
    const t = setup([limited({ memorySustainSec: 0.3 })]);
    const pid = await calmProgram(t);
    t.clock.advance(SENTINEL_PERIOD_MS);
    t.source.set({ ...t.source.processes.get(pid)!, rssBytes: 300 * MB });
    t.memory.available! -= 300 * MB;
    t.clock.advance(SENTINEL_PERIOD_MS);
    t.source.set({ ...t.source.processes.get(pid)!, rssBytes: 50 * MB });
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.violations()).toEqual([]);
    expect(t.signaller.sent).toEqual([]);
  });

  it("reads nothing when available memory cannot be read, beyond the processes near their limit", async () => {
    const t = setup([limited()]);
    t.memory.available = null;
    await calmProgram(t);
    const readsBefore = t.reads.rss;
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.reads.rss).toBe(readsBefore);
  });

  it("CPU's sustain stays in scans: time alone between them does not complete it", async () => {
    const t = setup([policy("spin", { autostart: true, cpuLimit: 50, sustain: 2, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.source.set({ ...t.source.processes.get(pid)!, cpuPercent: 90 });
    t.engine.tick();
    t.clock.advance(INTERVAL_SEC * 1000 - 1);
    expect(t.violations()).toEqual([]);
    t.engine.tick();
    expect(t.violations()).toMatchObject([{ name: "spin", resource: "cpu" }]);
    expect(t.violations()[0]!.message).toContain("for 2 scans");
  });
});
