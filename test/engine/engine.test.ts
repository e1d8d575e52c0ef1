// The engine's decisions, with a fake clock and a synthetic process table.
import { describe, expect, it, vi } from "vitest";
import { Engine, type UnitView } from "../../daemon/engine/engine.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { Config, Policy } from "../../daemon/config/policy.js";
import type { ProcessSnapshot } from "../../daemon/proc/types.js";
import type { CooldownState } from "../../daemon/cooldown/tracker.js";
import {
  FakeClock,
  FakeProbe,
  FakeSource,
  FakeSpawner,
  MemoryCooldownStore,
  RecordingSignaller,
  policy,
  sample,
  settle,
} from "../helpers/fakes.js";

const MB = 1024 * 1024;

function setup(policies: Policy[], initialCooldowns: CooldownState = {}) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  const signaller = new RecordingSignaller();
  const store = new MemoryCooldownStore(initialCooldowns);
  const config: Config = { settings: { intervalSec: 1 }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: new FakeProbe(source), spawner, signaller, cooldownStore: store, uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  const kinds = () => events.map((e) => e.kind);
  return { clock, source, spawner, signaller, store, engine, events, kinds };
}

describe("crash or normal end", () => {
  it("restarts a process killed by SIGSEGV at once, and the event names the signal", async () => {
    const t = setup([policy("app", { autostart: true })]);
    t.engine.start();
    await settle();
    const first = t.spawner.last.pid;
    t.spawner.crashLast(null, "SIGSEGV");
    await settle();
    const crashed = t.events.find((e) => e.kind === "crashed");
    expect(crashed).toMatchObject({ name: "app", pid: first, signal: "SIGSEGV", exitCode: null, willRestart: true, statusKnown: true });
    expect(t.spawner.children).toHaveLength(2);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ oldPid: first, newPid: t.spawner.last.pid, reason: "crash" });
    expect(t.engine.get("app")).toMatchObject({ state: "running", restarts: 1, managed: true });
    expect(t.kinds().indexOf("crashed")).toBeLessThan(t.kinds().indexOf("restarted"));
  });

  it("does not restart after exit 0 or SIGTERM under on-failure", async () => {
    const t = setup([policy("a", { autostart: true }), policy("b", { autostart: true })]);
    t.engine.start();
    await settle();
    t.spawner.children[0]!.exit(0);
    t.spawner.children[1]!.exit(null, "SIGTERM");
    await settle();
    expect(t.kinds().filter((k) => k === "exited")).toHaveLength(2);
    expect(t.spawner.children).toHaveLength(2);
    expect(t.engine.get("a").state).toBe("exited");
    expect(t.engine.get("b").state).toBe("exited");
  });

  it("restarts after exit 0 under restart = always, and never under restart = never", async () => {
    const t = setup([policy("a", { autostart: true, restart: "always" }), policy("n", { autostart: true, restart: "never" })]);
    t.engine.start();
    await settle();
    const [a, n] = t.spawner.children;
    t.source.remove(a!.pid);
    a!.exit(0);
    n!.exit(139);
    await settle();
    expect(t.spawner.children).toHaveLength(3);
    expect(t.engine.get("a").state).toBe("running");
    expect(t.engine.get("n").state).toBe("crashed");
    expect(t.events.find((e) => e.kind === "crashed")).toMatchObject({ name: "n", exitCode: 139, willRestart: false });
  });
});

describe("backoff and cooldown", () => {
  it("restarts the first time at once, then after growing delays", async () => {
    const t = setup([policy("app", { autostart: true, cooldown: { maxRestarts: 100, windowSec: 60, pauseSec: 120 } })]);
    t.engine.start();
    await settle();
    t.spawner.crashLast(1);
    await settle();
    expect(t.spawner.children).toHaveLength(2);
    t.spawner.crashLast(1);
    await settle();
    expect(t.engine.get("app").state).toBe("backoff");
    t.clock.advance(99);
    await settle();
    expect(t.spawner.children).toHaveLength(2);
    t.clock.advance(1);
    await settle();
    expect(t.spawner.children).toHaveLength(3);
    t.spawner.crashLast(1);
    t.clock.advance(199);
    await settle();
    expect(t.spawner.children).toHaveLength(3);
    t.clock.advance(1);
    await settle();
    expect(t.spawner.children).toHaveLength(4);
  });

  it("a healthy run resets the backoff", async () => {
    const t = setup([policy("app", { autostart: true })]);
    t.engine.start();
    await settle();
    t.spawner.crashLast(1);
    await settle();
    t.clock.advance(60_000);
    t.spawner.crashLast(1);
    await settle();
    expect(t.spawner.children).toHaveLength(3);
  });

  it("holds a crash loop in cooldown through the pause, then starts it in a fresh window", async () => {
    const cooldown = { maxRestarts: 3, windowSec: 60, pauseSec: 120 };
    const t = setup([policy("loop", { autostart: true, cooldown })]);
    t.engine.start();
    await settle();
    for (let i = 0; i < 3; i++) {
      t.spawner.crashLast(1);
      t.clock.advance(1000);
      await settle();
    }
    expect(t.spawner.children).toHaveLength(4);
    t.spawner.crashLast(1);
    await settle();
    expect(t.events.filter((e) => e.kind === "crashed").at(-1)).toMatchObject({ willRestart: false });
    expect(t.events.find((e) => e.kind === "cooldown-started")).toMatchObject({ name: "loop", restarts: 3, seconds: 120 });
    expect(t.engine.get("loop")).toMatchObject({ state: "cooldown", pid: 0 });
    expect(t.engine.get("loop").cooldownRemainingSec).toBeCloseTo(120);
    expect(t.store.saved.loop?.untilMs).toBe(t.clock.now() + 120_000);

    t.clock.advance(119_000);
    await settle();
    expect(t.spawner.children).toHaveLength(4);
    t.clock.advance(1_000);
    await settle();
    expect(t.kinds()).toContain("cooldown-ended");
    expect(t.spawner.children).toHaveLength(5);
    expect(t.engine.get("loop")).toMatchObject({ state: "running", restartsInWindow: 0, cooldownUntilMs: 0 });
  });

  it("a new engine resumes a persisted cooldown and does not start the program early", async () => {
    const clockNow = new FakeClock().now();
    const t = setup([policy("loop", { autostart: true })], { loop: { restarts: [clockNow - 5000], untilMs: clockNow + 30_000 } });
    t.engine.start();
    await settle();
    expect(t.spawner.children).toHaveLength(0);
    expect(t.engine.get("loop").state).toBe("cooldown");
    t.clock.advance(30_000);
    await settle();
    expect(t.spawner.children).toHaveLength(1);
  });

  it("saves a cooldown as not yet announced before it announces it, then as announced", async () => {
    const cooldown = { maxRestarts: 1, windowSec: 60, pauseSec: 120 };
    const t = setup([policy("loop", { autostart: true, cooldown })]);
    const saves: Array<{ announced: boolean | undefined; events: number }> = [];
    const save = t.store.save.bind(t.store);
    t.store.save = (state) => {
      if ((state.loop?.untilMs ?? 0) > 0) saves.push({ announced: state.loop?.announced, events: t.events.filter((e) => e.kind === "cooldown-started").length });
      save(state);
    };
    t.engine.start();
    await settle();
    t.spawner.crashLast(1);
    await settle();
    t.spawner.crashLast(1);
    await settle();
    expect(t.engine.get("loop").state).toBe("cooldown");
    // The cooldown is on disk before it is told, so that a kill -9 between the two keeps it; the
    // event is told once, then the record says so.
    expect(saves[0]).toEqual({ announced: false, events: 0 });
    expect(saves.at(-1)).toEqual({ announced: true, events: 1 });
    expect(t.store.saved.loop?.announced).toBe(true);
  });

  it("a new engine announces a persisted cooldown that its predecessor saved but was killed before telling", async () => {
    const clockNow = new FakeClock().now();
    const t = setup([policy("loop", { autostart: true, cooldown: { maxRestarts: 3, windowSec: 60, pauseSec: 120 } })], {
      loop: { restarts: [clockNow - 3000, clockNow - 2000, clockNow - 1000], untilMs: clockNow + 119_000, announced: false },
    });
    t.engine.start();
    await settle();
    expect(t.spawner.children).toHaveLength(0);
    expect(t.events.filter((e) => e.kind === "cooldown-started")).toEqual([expect.objectContaining({ name: "loop", restarts: 3, untilMs: clockNow + 119_000 })]);
    expect(t.store.saved.loop?.announced).toBe(true);
    // One announced already is not told again.
    const again = setup([policy("loop", { autostart: true })], { loop: { restarts: [clockNow - 1000], untilMs: clockNow + 30_000 } });
    again.engine.start();
    await settle();
    expect(again.engine.get("loop").state).toBe("cooldown");
    expect(again.events.filter((e) => e.kind === "cooldown-started")).toEqual([]);
  });

  it("ResetCooldown starts a held-down program and clears the window", async () => {
    const t = setup([policy("loop", { autostart: true, cooldown: { maxRestarts: 1, windowSec: 60, pauseSec: 120 } })]);
    t.engine.start();
    await settle();
    t.spawner.crashLast(1);
    await settle();
    t.spawner.crashLast(1);
    await settle();
    expect(t.engine.get("loop").state).toBe("cooldown");
    const started = t.events.find((e) => e.kind === "cooldown-started");
    expect(started?.message).toContain("loop restarted 1 time within 60 s");
    t.engine.resetCooldown("loop");
    await settle();
    expect(t.engine.get("loop")).toMatchObject({ state: "running", restartsInWindow: 0 });
    expect(t.kinds()).toContain("cooldown-ended");
  });

  it("a program that cannot start backs off and ends in cooldown, not in a spin", async () => {
    const t = setup([policy("missing", { cooldown: { maxRestarts: 2, windowSec: 60, pauseSec: 120 } })]);
    t.engine.start();
    t.spawner.failNext = "cannot start missing: spawn missing ENOENT";
    await expect(t.engine.startProcess("missing")).rejects.toThrow(/could not be started/);
    expect(t.events.find((e) => e.kind === "start-failed")).toMatchObject({ error: expect.stringContaining("ENOENT") });
    expect(t.engine.get("missing").state).toBe("crashed");
  });
});

describe("limits", () => {
  it("restarts a process over its memory limit once the breach has lasted memory_sustain, looked at again then", async () => {
    const t = setup([policy("hog", { autostart: true, memoryLimitBytes: 100 * MB, memorySustainSec: 0.05, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.signaller.onSignal = (target, signal) => {
      if (target === pid && signal === "SIGTERM") t.spawner.crashLast(null, "SIGTERM");
    };
    t.source.set(sample(pid, { comm: "hog", rssBytes: 150 * MB }));
    t.engine.tick();
    t.clock.advance(40);
    expect(t.kinds()).not.toContain("violation");
    t.clock.advance(10);
    await settle();
    expect(t.events.find((e) => e.kind === "violation")).toMatchObject({ resource: "memory", value: 150 * MB, limit: 100 * MB, action: "restart" });
    expect(t.signaller.sent).toEqual([[pid, "SIGTERM"]]);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ oldPid: pid, reason: "violation" });
    expect(t.engine.get("hog").restartsInWindow).toBe(1);
  });

  it("one scan under the limit restarts the count", () => {
    const t = setup([policy("hog", { cpuLimit: 100, sustain: 2 })]);
    t.source.set(sample(10, { comm: "hog", cpuPercent: 150 }));
    t.engine.start();
    t.source.set(sample(10, { comm: "hog", cpuPercent: 50 }));
    t.engine.tick();
    t.source.set(sample(10, { comm: "hog", cpuPercent: 150 }));
    t.engine.tick();
    expect(t.kinds()).not.toContain("violation");
  });

  it("sums the whole tree under scope = tree", () => {
    const t = setup([policy("tree", { cpuLimit: 100, sustain: 1, onViolation: "notify" })]);
    t.source.set(sample(10, { comm: "tree", cpuPercent: 40 }), sample(11, { ppid: 10, cpuPercent: 40 }), sample(12, { ppid: 11, cpuPercent: 40 }));
    t.engine.start();
    expect(t.events.find((e) => e.kind === "violation")).toMatchObject({ resource: "cpu", value: 120, action: "notify" });
    expect(t.engine.get("tree").cpuPercent).toBe(120);
  });

  it("announces a notify-only breach once per episode", () => {
    const t = setup([policy("n", { memoryLimitBytes: 100 * MB, memorySustainSec: 0, onViolation: "notify" })]);
    t.source.set(sample(10, { comm: "n", rssBytes: 150 * MB }));
    t.engine.start();
    t.engine.tick();
    t.engine.tick();
    expect(t.kinds().filter((k) => k === "violation")).toHaveLength(1);
    t.source.set(sample(10, { comm: "n", rssBytes: 50 * MB }));
    t.engine.tick();
    t.source.set(sample(10, { comm: "n", rssBytes: 150 * MB }));
    t.engine.tick();
    expect(t.kinds().filter((k) => k === "violation")).toHaveLength(2);
  });

  it("kill sends SIGKILL and does not restart", async () => {
    const t = setup([policy("k", { autostart: true, memoryLimitBytes: MB, memorySustainSec: 0, onViolation: "kill", scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.signaller.onSignal = () => t.spawner.crashLast(null, "SIGKILL");
    t.engine.tick();
    await settle();
    expect(t.signaller.sent).toEqual([[pid, "SIGKILL"]]);
    expect(t.spawner.children).toHaveLength(1);
    expect(t.engine.get("k").state).toBe("stopped");
  });
});

describe("adopted processes", () => {
  it("adopts a running instance and reports its end as unknown without restarting under on-failure", () => {
    const t = setup([policy("gedit")]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    expect(t.engine.get("gedit")).toMatchObject({ pid: 42, state: "running", managed: false });
    expect(t.kinds()).toContain("adopted");
    t.source.remove(42);
    t.engine.tick();
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ pid: 42, statusKnown: false, willRestart: false, exitCode: null });
    expect(t.events.find((e) => e.kind === "exited")?.message).toMatch(/cannot be known/);
    expect(t.spawner.children).toHaveLength(0);
  });

  it("restarts an adopted process that ends under restart = always", async () => {
    const t = setup([policy("gedit", { restart: "always" })]);
    t.source.set(sample(42, { comm: "gedit" }));
    t.engine.start();
    t.source.remove(42);
    t.engine.tick();
    await settle();
    expect(t.spawner.children).toHaveLength(1);
    expect(t.engine.get("gedit")).toMatchObject({ managed: true, state: "running" });
  });

  it("names its watched programs' PIDs, adopted or started, as each scan's focus (their trees are read afresh)", async () => {
    const t = setup([policy("gedit"), policy("app", { autostart: true }), policy("idle")]);
    t.source.set(sample(42, { comm: "gedit" }));
    await t.engine.start();
    t.engine.tick();
    const started = t.engine.get("app").pid;
    expect(started).not.toBe(0);
    expect(t.source.focuses.at(-1)).toEqual([42, started].sort((a, b) => a - b));
    t.source.remove(42);
    t.engine.tick();
    t.engine.tick();
    expect(t.source.focuses.at(-1)).toEqual([started]);
  });

  it("never adopts another user's process", () => {
    const t = setup([policy("gedit")]);
    t.source.set(sample(42, { comm: "gedit", uid: 0 }));
    t.engine.start();
    expect(t.engine.get("gedit").pid).toBe(0);
  });
});

describe("stopping", () => {
  it("a process stopped by the user is not restarted", async () => {
    const t = setup([policy("app", { autostart: true, restart: "always" })]);
    t.engine.start();
    await settle();
    t.signaller.onSignal = () => t.spawner.crashLast(null, "SIGTERM");
    await t.engine.stopProcess("app");
    expect(t.engine.get("app").state).toBe("stopped");
    expect(t.kinds()).toContain("stopped");
    expect(t.spawner.children).toHaveLength(1);
    t.clock.advance(60_000);
    t.engine.tick();
    await settle();
    expect(t.spawner.children).toHaveLength(1);
  });

  it("kills a process that ignores SIGTERM after the stop timeout", async () => {
    const t = setup([policy("stubborn", { autostart: true, stopTimeoutSec: 3 })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.signaller.onSignal = (_pid, signal) => {
      if (signal === "SIGKILL") t.spawner.crashLast(null, "SIGKILL");
    };
    const stopped = t.engine.stopProcess("stubborn");
    t.clock.advance(2_999);
    expect(t.signaller.sent).toEqual([[pid, "SIGTERM"]]);
    t.clock.advance(1);
    await stopped;
    expect(t.signaller.sent).toEqual([
      [pid, "SIGTERM"],
      [pid, "SIGKILL"],
    ]);
    expect(t.events.find((e) => e.kind === "stopped")).toMatchObject({ forced: true });
  });

  it("a protected process is refused with Protected", async () => {
    const t = setup([policy("app")]);
    t.source.set(sample(42, { comm: "app" }));
    t.engine.start();
    t.signaller.refuse.add(42);
    await expect(t.engine.stopProcess("app")).rejects.toMatchObject({ errorName: "Protected" });
    expect(t.kinds()).toContain("protected");
  });

  it("an unknown name is UnknownProcess", async () => {
    const t = setup([]);
    await expect(t.engine.stopProcess("nope")).rejects.toMatchObject({ errorName: "UnknownProcess" });
  });
});

describe("configuration changes", () => {
  it("a stop under way when its policy is removed completes and starts nothing", async () => {
    const t = setup([policy("going", { restart: "always", stopTimeoutSec: 60 })]);
    t.source.set(sample(42, { comm: "going" }));
    t.engine.start();
    const stopped = t.engine.restartProcess("going"); // SIGTERM to the adopted process, then a start
    expect(t.signaller.sent).toEqual([[42, "SIGTERM"]]);
    t.engine.applyConfig({ settings: { intervalSec: 1 }, policies: new Map() } as Config);
    await stopped;
    t.source.remove(42);
    t.clock.advance(10_000);
    await settle();
    expect(t.spawner.children).toHaveLength(0);
    expect(t.signaller.sent).toEqual([[42, "SIGTERM"]]);
  });

  it("does not restart the program of a removed policy when it crashes later", async () => {
    const t = setup([policy("gone", { autostart: true })]);
    t.engine.start();
    await settle();
    t.engine.applyConfig({ settings: { intervalSec: 1 }, policies: new Map() } as Config);
    t.spawner.crashLast(null, "SIGSEGV");
    await settle();
    t.clock.advance(10_000);
    await settle();
    expect(t.spawner.children).toHaveLength(1);
    expect(t.kinds()).not.toContain("crashed");
  });

  it("leaves unchanged programs alone, lets removed ones go and adopts new ones", async () => {
    const t = setup([policy("keep", { autostart: true }), policy("drop", { autostart: true })]);
    t.engine.start();
    await settle();
    const keepPid = t.engine.get("keep").pid;
    t.source.set(sample(77, { comm: "fresh" }));
    const result = t.engine.applyConfig({
      settings: { intervalSec: 1 },
      policies: new Map([
        ["keep", policy("keep", { autostart: true })],
        ["fresh", policy("fresh")],
      ]),
    } as Config);
    t.engine.tick();
    expect(result).toEqual({ added: ["fresh"], removed: ["drop"], changed: [] });
    expect(t.engine.get("keep").pid).toBe(keepPid);
    expect(t.engine.get("fresh").pid).toBe(77);
    expect(t.signaller.sent).toEqual([]);
    expect(() => t.engine.get("drop")).toThrow(/no program named "drop"; watched programs: /);
  });
});

describe("a policy added between scans", () => {
  // The process table as a peek gives it (the last scan's samples, new PIDs read afresh), with
  // the scans and peeks counted.
  class PeekingSource extends FakeSource {
    peeks = 0;
    scans = 0;
    override scan(focus?: ReadonlySet<number>): ProcessSnapshot {
      this.scans++;
      return super.scan(focus);
    }
    peek(): ProcessSnapshot {
      this.peeks++;
      return super.scan();
    }
  }

  it("adopts its running program at once with a look at the table, never a scan out of turn (the next scan's CPU window stays whole)", async () => {
    const clock = new FakeClock();
    const source = new PeekingSource(clock);
    const config = (policies: Policy[]): Config => ({ settings: { intervalSec: 10 }, policies: new Map(policies.map((p) => [p.name, p])), email: null }) as Config;
    const engine = new Engine({ clock, source, probe: new FakeProbe(source), spawner: new FakeSpawner(source), signaller: new RecordingSignaller(), cooldownStore: new MemoryCooldownStore({}), uid: 1000 }, config([]));
    await engine.start();
    const scans = source.scans;
    source.set(sample(88, { comm: "editor" }));
    engine.applyConfig(config([policy("editor")]));
    expect(engine.get("editor")).toMatchObject({ pid: 88, state: "running", managed: false });
    expect(source.scans).toBe(scans);
    expect(source.peeks).toBe(1);
  });

  it("knows, from its first scan, the command lines of the processes older than a scan interval, so that the first look for a program reads none of them again", async () => {
    const clock = new FakeClock();
    const source = new PeekingSource(clock);
    const reads: number[] = [];
    source.readCmdline = (pid) => (reads.push(pid), source.cmdlines.get(pid) ?? null);
    const config = (policies: Policy[]): Config => ({ settings: { intervalSec: 10 }, policies: new Map(policies.map((p) => [p.name, p])), email: null }) as Config;
    const engine = new Engine({ clock, source, probe: new FakeProbe(source), spawner: new FakeSpawner(source), signaller: new RecordingSignaller(), cooldownStore: new MemoryCooldownStore({}), uid: 1000 }, config([]));
    // One process started an hour before the daemon, one a second before (as a short-lived one may be).
    source.set(sample(90, { comm: "old", startTimeMs: clock.now() - 3_600_000 }), sample(91, { comm: "young", startTimeMs: clock.now() - 1_000 }));
    await engine.start();
    expect(reads).toContain(90);
    expect(reads).not.toContain(91);
  });

  it("does not adopt a process the last scan saw that has ended since", async () => {
    const clock = new FakeClock();
    const source = new PeekingSource(clock);
    const config = (policies: Policy[]): Config => ({ settings: { intervalSec: 10 }, policies: new Map(policies.map((p) => [p.name, p])), email: null }) as Config;
    const probe = new FakeProbe(source);
    const engine = new Engine({ clock, source, probe, spawner: new FakeSpawner(source), signaller: new RecordingSignaller(), cooldownStore: new MemoryCooldownStore({}), uid: 1000 }, config([]));
    source.set(sample(89, { comm: "editor" }));
    await engine.start();
    // The peek still gives the last scan's sample; the process itself is gone.
    probe.isAlive = () => false;
    engine.applyConfig(config([policy("editor")]));
    expect(engine.get("editor")).toMatchObject({ pid: 0, state: "stopped" });
  });
});

describe("memory checks between scans", () => {
  it("acts on a memory breach before the next scan (default memory_sustain)", async () => {
    const t = setup([policy("leak", { autostart: true, memoryLimitBytes: 100 * MB, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.source.set(sample(pid, { comm: "leak", rssBytes: 60 * MB }));
    t.engine.tick();
    t.source.set(sample(pid, { comm: "leak", rssBytes: 150 * MB }));
    t.clock.advance(200);
    expect(t.events.find((e) => e.kind === "violation")).toMatchObject({ resource: "memory", value: 150 * MB });
    expect(t.signaller.sent).toEqual([[pid, "SIGTERM"]]);
  });

  it("does not read processes far below their limit and not growing between scans", async () => {
    const t = setup([policy("calm", { autostart: true, memoryLimitBytes: 100 * MB, memorySustainSec: 0, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.engine.tick();
    t.engine.tick();
    t.source.set(sample(pid, { comm: "calm", rssBytes: 150 * MB }));
    t.clock.advance(200);
    expect(t.kinds()).not.toContain("violation");
    // The next scan sees it.
    t.engine.tick();
    expect(t.kinds()).toContain("violation");
  });

  it("with memory_sustain = 1 waits a second, whatever the scans, and is looked at again then", async () => {
    const t = setup([policy("leak", { autostart: true, memoryLimitBytes: 100 * MB, sustain: 5, memorySustainSec: 1, scope: "process" })]);
    t.engine.start();
    await settle();
    const pid = t.spawner.last.pid;
    t.source.set(sample(pid, { comm: "leak", rssBytes: 150 * MB }));
    t.engine.tick();
    t.clock.advance(800);
    expect(t.kinds()).not.toContain("violation");
    t.clock.advance(400);
    expect(t.kinds()).toContain("violation");
  });
});

describe("the look for a running copy before a restart", () => {
  // Before each start the engine looks at every process the policy may match: by name, that reads each one's
  // executable and argv. The real scanner reads them once per process and keeps them; with every program running
  // no scan needed them, so a crash read the whole table at once (tens of ms on a loaded machine).
  it("reads only processes younger than a scan: the scans learned the others' argv and executable", async () => {
    const t = setup([policy("app", { autostart: true })]);
    const known = new Set<number>();
    const read: number[] = [];
    const once = (pid: number): void => {
      if (!known.has(pid)) read.push(pid);
      known.add(pid);
    };
    const readCmdline = t.source.readCmdline.bind(t.source);
    t.source.readCmdline = (pid) => (once(pid), readCmdline(pid));
    t.source.readExeName = (pid: number) => (once(pid), null);
    t.engine.start();
    await settle();
    // Started after the daemon's first look, each seen by two scans (the first start's look read what ran before).
    t.source.set(sample(500, { comm: "editor" }), sample(501, { comm: "player" }), sample(502, { comm: "kworker", uid: 0 }));
    t.engine.tick();
    t.engine.tick();
    read.length = 0;
    t.source.set(sample(600, { comm: "newcomer" }));
    t.spawner.crashLast(null, "SIGSEGV");
    await settle();
    expect(t.events.find((e) => e.kind === "restarted")).toBeDefined();
    expect(read).toEqual([600]);
  });
});

describe("scan observers", () => {
  it("hand every observer of a scan the units as the scan left them, listed once for all of them", async () => {
    const t = setup([policy("a", { autostart: true }), policy("b", { autostart: true })]);
    t.engine.start();
    await settle();
    const seen: Array<readonly UnitView[]> = [];
    t.engine.onScan((_snapshot, views) => seen.push(views));
    t.engine.onScan((_snapshot, views) => seen.push(views));
    const list = vi.spyOn(t.engine, "list");
    t.engine.tick();
    expect(list).toHaveBeenCalledTimes(1);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]!.map((view) => [view.name, view.pid, view.state])).toEqual([
      ["a", t.engine.get("a").pid, "running"],
      ["b", t.engine.get("b").pid, "running"],
    ]);
  });
});
