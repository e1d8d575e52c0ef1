// The sentinel of adopted ends, with a fake clock: an adopted program's end is
// seen within one sentinel period (100 ms), not at the next scan.
import { describe, expect, it } from "vitest";
import { Engine } from "../../../daemon/engine/engine.js";
import type { EngineEvent } from "../../../daemon/engine/events.js";
import type { Config, Policy } from "../../../daemon/config/policy.js";
import { SENTINEL_PERIOD_MS } from "../../../daemon/engine/sentinels/watch.js";
import { FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../../helpers/fakes.js";

function setup(policies: Policy[], intervalSec = 1) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  const signaller = new RecordingSignaller();
  const config = { settings: { intervalSec }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const probe = new FakeProbe(source);
  const engine = new Engine({ clock, source, probe, spawner, signaller, cooldownStore: new MemoryCooldownStore(), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  return { clock, source, spawner, signaller, engine, events };
}

describe("the end of an adopted program, between scans", () => {
  it("is told within one sentinel period, long before the next scan", () => {
    const t = setup([policy("gedit")], 10);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    expect(t.engine.get("gedit")).toMatchObject({ pid: 42, managed: false });
    t.clock.advance(30);
    t.source.remove(42);
    t.clock.advance(SENTINEL_PERIOD_MS);
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ name: "gedit", pid: 42, statusKnown: false, willRestart: false });
    expect(t.engine.get("gedit")).toMatchObject({ pid: 0, state: "exited" });
  });

  it("under restart = always, starts the program again within one sentinel period", async () => {
    const t = setup([policy("gedit", { restart: "always" })], 10);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.source.remove(42);
    t.clock.advance(SENTINEL_PERIOD_MS);
    await settle();
    expect(t.spawner.children).toHaveLength(1);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ name: "gedit", oldPid: 42, newPid: t.spawner.last.pid });
  });

  it("leaves a PID that still answers (a zombie, or reused) to the scan, which compares start times", () => {
    const t = setup([policy("gedit")], 10);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.source.set(sample(42, { comm: "gedit", state: "Z" }));
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.events.some((e) => e.kind === "exited")).toBe(false);
    t.engine.tick();
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ pid: 42 });
  });

  it("does not look at programs selfheal started (their end comes with its status) nor at a stop under way", async () => {
    const t = setup([policy("mine", { autostart: true })], 10);
    t.engine.start();
    await settle();
    t.source.remove(t.spawner.last.pid);
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    // No exit event yet: the keeper or the exit listener tells the end of a managed program, with its status.
    expect(t.events.some((e) => e.kind === "exited" || e.kind === "crashed")).toBe(false);
  });

  it("stops looking at shutdown", () => {
    const t = setup([policy("gedit")], 10);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.engine.shutdown();
    t.source.remove(42);
    t.clock.advance(5 * SENTINEL_PERIOD_MS);
    expect(t.events.some((e) => e.kind === "exited")).toBe(false);
  });
});
