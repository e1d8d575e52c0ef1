// The anomaly monitor on the real engine with a fake clock and a synthetic
// process table: events, per-policy thresholds and actions, containment
// through the signaller, and the global watch.
import { describe, expect, it } from "vitest";
import type { AnomalyOverrides, AnomalySettings, Config, Policy } from "../../daemon/config/policy.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { PeekFresh, ProcessSample, ProcessSnapshot } from "../../daemon/proc/types.js";
import { Engine } from "../../daemon/engine/engine.js";
import { AnomalyMonitor } from "../../daemon/anomaly/monitor.js";
import { DEFAULT_ANOMALY_SETTINGS } from "../../daemon/anomaly/settings.js";
import { ProtectedError } from "../../daemon/safety/guard.js";
import { FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../helpers/fakes.js";

const MB = 1024 * 1024;
const UID = 1000;
type AnomalyEvent = Extract<EngineEvent, { kind: "anomaly" }>;

/** Options of setup: the signaller's group signal (as the SignalGuard's killGroup), off unless asked for. */
interface SetupOptions {
  groups?: boolean;
}

function setup(policies: Policy[], anomaly: Partial<AnomalySettings> = {}, intervalSec = 1, peekOf?: (source: FakeSource) => (fresh: PeekFresh) => ProcessSnapshot, options: SetupOptions = {}) {
  const clock = new FakeClock();
  /** The kernel's fork counter, as the fork-surge sentinel reads it. */
  const forks = { count: 1_000_000 };
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source, UID);
  const signaller = new RecordingSignaller();
  // Signals act on the table as the kernel would: stop, end (children go to PID 1), or end a spawned child;
  // that end reaches the engine later, as a child's exit event or a keeper's message does, never within the kill call.
  /** Looks and signals in the order they came: "peek", "rescan", "SIGSTOP 100", "group SIGSTOP 100". */
  const order: string[] = [];
  signaller.onSignal = (pid, signal) => {
    order.push(`${signal} ${pid}`);
    const process = source.processes.get(pid);
    if (!process) return;
    if (signal === "SIGSTOP") source.set({ ...process, state: "T" });
    if (signal === "SIGCONT" && process.state === "T") source.set({ ...process, state: "S" });
    if (signal === "SIGKILL" || signal === "SIGTERM") {
      const child = spawner.children.find((c) => c.pid === pid);
      source.remove(pid);
      for (const orphan of source.processes.values()) if (orphan.ppid === pid) source.set({ ...orphan, ppid: 1 });
      if (child) queueMicrotask(() => child.exit(null, signal));
    }
  };
  if (options.groups === true) signaller.killGroup = groupSignal(source, signaller, order);
  const config = {
    settings: { intervalSec },
    policies: new Map(policies.map((p) => [p.name, p])),
    email: null,
    anomaly: { ...DEFAULT_ANOMALY_SETTINGS, ...anomaly },
  } as Config;
  const counters = { forksSinceBoot: () => forks.count, availableMemoryBytes: () => null };
  const engine = new Engine({ clock, source, probe: new FakeProbe(source), counters, spawner, signaller, cooldownStore: new MemoryCooldownStore(), uid: UID }, config);
  const looks = { rescans: 0, peeks: 0 };
  const monitor = new AnomalyMonitor(engine, {
    signaller,
    rescan: () => (looks.rescans++, order.push("rescan"), source.scan()),
    peek: (fresh) => (looks.peeks++, order.push("peek"), peekOf ? peekOf(source)(fresh) : source.scan()),
    sleep: async () => undefined,
    uid: UID,
  });
  const events: EngineEvent[] = [];
  engine.events.subscribe((event) => events.push(event));
  const anomalies = () => events.filter((event): event is AnomalyEvent => event.kind === "anomaly");
  return { clock, source, spawner, signaller, engine, monitor, events, anomalies, forks, looks, order };
}

// The guard's killGroup over the fake table: the leader must lead its session and group in the snapshot
// and now, no process of its session may be protected; then every process of the group gets the signal.
function groupSignal(source: FakeSource, signaller: RecordingSignaller, order: string[]) {
  return (snapshot: ProcessSnapshot, leader: number, leaderStartTicks: number, signal: NodeJS.Signals): boolean => {
    for (const leads of [snapshot.processes.get(leader), source.processes.get(leader)]) {
      if (!leads || leads.startTicks !== leaderStartTicks || leads.sid !== leader || leads.pgid !== leader) return false;
    }
    for (const process of snapshot.processes.values()) {
      // As the guard judges each process of the session, on the snapshot's sample: another user's is refused.
      const reason = process.sid === leader ? (signaller.protect.get(process.pid) ?? (process.uid !== UID ? `it belongs to another user (uid ${process.uid})` : undefined)) : undefined;
      if (reason !== undefined) throw new ProtectedError(process.pid, reason);
    }
    order.push(`group ${signal} ${leader}`);
    for (const process of [...source.processes.values()]) {
      if (process.pgid !== leader) continue;
      if (signal === "SIGSTOP") source.set({ ...process, state: "T" });
      if (signal === "SIGKILL") source.remove(process.pid);
    }
    return true;
  };
}

/** A policy matching comm `name`, for a process the test puts in the table (adopted). */
function watched(name: string, anomaly?: AnomalyOverrides): Policy {
  return policy(name, { scope: "process", ...(anomaly ? { anomaly } : {}) });
}

function running(source: FakeSource, pid: number, fields: Partial<ProcessSample> = {}): ProcessSample {
  const process = sample(pid, { uid: UID, sid: pid, pgid: pid, ...fields });
  source.set(process);
  return process;
}

// Run `seconds` scans, calling each(t) before every one.
function scans(t: ReturnType<typeof setup>, seconds: number, each: (second: number) => void): void {
  for (let second = 0; second < seconds; second++) {
    each(second);
    t.clock.advance(1000);
  }
}

describe("memory leaks", () => {
  it("tells a policy's leak as memory_leak, notified by default, within 10 s of onset", () => {
    const t = setup([watched("app")]);
    running(t.source, 100, { comm: "app", rssBytes: 50 * MB });
    t.engine.start();
    scans(t, 30, (s) => t.source.set({ ...t.source.processes.get(100)!, rssBytes: (50 + 5 * Math.max(0, s - 5)) * MB }));
    const [leak] = t.anomalies();
    expect(leak).toMatchObject({ name: "app", pid: 100, type: "memory_leak", action: "notified" });
    expect(leak!.timeMs - (t.clock.time - 30_000 + 5_000)).toBeLessThanOrEqual(10_000);
    expect(leak!.figures.slopeMbPerSec).toBeGreaterThan(2);
    expect(t.signaller.sent).toEqual([]);
  });

  it("restarts the program when the policy says leak.action = restart", async () => {
    const t = setup([{ ...watched("app", { leak: { action: "restart" } }), autostart: true }]);
    t.engine.start();
    await settle();
    const first = t.spawner.last.pid;
    scans(t, 20, (s) => {
      const process = t.source.processes.get(first);
      if (process) t.source.set({ ...process, rssBytes: (50 + 6 * s) * MB });
    });
    await settle();
    expect(t.anomalies()[0]).toMatchObject({ type: "memory_leak", action: "restarting" });
    expect(t.signaller.sent).toContainEqual([first, "SIGTERM"]);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ oldPid: first, reason: "anomaly" });
  });

  it("leaves a policy alone when its leak check is disabled", () => {
    const t = setup([watched("app", { leak: { enabled: false } })]);
    running(t.source, 100, { comm: "app" });
    t.engine.start();
    scans(t, 30, (s) => t.source.set({ ...t.source.processes.get(100)!, rssBytes: (50 + 10 * s) * MB }));
    expect(t.anomalies()).toEqual([]);
  });
});

describe("CPU spikes", () => {
  it("tells a sustained spike as cpu_spike, notified by default, and a burst not at all", () => {
    const t = setup([watched("busy"), watched("bursty")]);
    running(t.source, 100, { comm: "busy" });
    running(t.source, 200, { comm: "bursty" });
    t.engine.start();
    scans(t, 60, (s) => {
      t.source.set({ ...t.source.processes.get(100)!, cpuPercent: s < 30 ? 2 : 99 });
      t.source.set({ ...t.source.processes.get(200)!, cpuPercent: s % 10 < 3 ? 100 : 2 });
    });
    expect(t.anomalies().map((a) => [a.name, a.type, a.action])).toEqual([["busy", "cpu_spike", "notified"]]);
  });
});

describe("actions on a process the guard refuses, or one that vanished", () => {
  // One scan's worth of the anomaly's shape: memory climbing for a leak, CPU far above its baseline for a spike.
  const shapes = {
    memory_leak: { anomaly: { leak: { action: "kill" as const } }, at: (s: number) => ({ rssBytes: (50 + 6 * s) * MB, cpuPercent: 2 }) },
    cpu_spike: { anomaly: { cpuSpike: { action: "restart" as const } }, at: (s: number) => ({ rssBytes: 50 * MB, cpuPercent: s < 20 ? 2 : 99 }) },
  };
  for (const [type, shape] of Object.entries(shapes)) {
    it(`${type}: the refusal is an event, the process is let go, nothing escapes and the engine goes on`, async () => {
      const t = setup([watched("app", shape.anomaly), policy("other", { autostart: true })]);
      running(t.source, 100, { comm: "app", ...shape.at(0) });
      t.engine.start();
      await settle();
      // The guard refuses it from now on (it became a session program between the scan and the signal).
      t.signaller.refuse.add(100);
      scans(t, 60, (s) => {
        const process = t.source.processes.get(100);
        if (process) t.source.set({ ...process, ...shape.at(s) });
      });
      await settle();
      expect(t.anomalies().filter((a) => a.type === type)).toHaveLength(1);
      expect(t.events.filter((e) => e.kind === "protected")).toMatchObject([{ name: "app", pid: 100 }]);
      expect(t.signaller.sent.filter(([pid]) => pid === 100)).toEqual([]);
      expect(t.engine.get("app").pid).toBe(0);
      t.spawner.crashLast(null, "SIGSEGV");
      await settle();
      expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ name: "other" });
    });

    it(`${type}: on a process that ended right after the scan (its PID now another's) nothing is signalled`, async () => {
      const t = setup([watched("app", shape.anomaly)]);
      const app = running(t.source, 100, { comm: "app", startTicks: 1000, ...shape.at(0) });
      t.engine.start();
      // Each scan sees app; right after it, app is gone and a stranger has PID 100 (what the signal would reach).
      const scan = t.source.scan.bind(t.source);
      t.source.scan = () => {
        const snapshot = scan();
        t.source.set(sample(100, { uid: UID, comm: "stranger", startTicks: 99_999 }));
        return snapshot;
      };
      scans(t, 60, (s) => t.source.set({ ...app, ...shape.at(s) }));
      await settle();
      expect(t.anomalies().filter((a) => a.type === type)).toHaveLength(1);
      expect(t.signaller.sent).toEqual([]);
      expect(t.events.find((e) => e.kind === "stopped")?.message).toContain("had already ended");
    });
  }
});

// A bomb under root: each scan every member forks once; each member's first child's parent exits (reparenting).
function bombScan(t: ReturnType<typeof setup>, root: number, nextPid: { value: number }): void {
  for (const process of [...t.source.processes.values()]) {
    if (process.state === "T" || (process.pid !== root && process.sid !== root)) continue;
    // A child starts after every process already there (the fake's default start time grows with the pid).
    t.source.set(sample(nextPid.value, { uid: UID, ppid: process.pid, sid: root, pgid: root, comm: "bomb", startTicks: 1_000_000 + nextPid.value++ }));
  }
}

describe("fork bombs", () => {
  it("contains a policy's bomb: every member stopped then killed, none left, the policy held stopped", async () => {
    const t = setup([watched("bomb")]);
    running(t.source, 100, { comm: "bomb" });
    running(t.source, 50, { comm: "gedit" });
    t.engine.start();
    const nextPid = { value: 1000 };
    scans(t, 8, () => bombScan(t, 100, nextPid));
    await t.monitor.idle();
    t.clock.advance(200);
    const [bomb] = t.anomalies();
    expect(bomb).toMatchObject({ name: "bomb", pid: 100, type: "fork_bomb" });
    expect(bomb!.action).toMatch(/^contained \d+ processes$/);
    expect(bomb!.figures.survivors).toBe(0);
    expect(bomb!.figures.descendants).toBeGreaterThanOrEqual(50);
    expect([...t.source.processes.values()].filter((p) => p.sid === 100)).toEqual([]);
    expect(t.source.processes.has(50)).toBe(true);
    expect(t.signaller.sent.some(([pid]) => pid === 50)).toBe(false);
    const firstKill = t.signaller.sent.findIndex(([, signal]) => signal === "SIGKILL");
    expect(t.signaller.sent.slice(0, firstKill).every(([, signal]) => signal === "SIGSTOP")).toBe(true);
    expect(t.engine.get("bomb").state).toBe("stopped");
  });

  it("never reaches a protected process of the tree, nor one of the root's session that started before the root", async () => {
    const t = setup([watched("bomb")]);
    running(t.source, 100, { comm: "bomb", startTicks: 5000 });
    // In the root's session but older than it (the root took over a session that was there before it).
    running(t.source, 60, { comm: "older", ppid: 1, sid: 100, pgid: 100, startTicks: 10 });
    // Under the root, but a process the guard protects.
    running(t.source, 70, { comm: "dbus-daemon", ppid: 100, sid: 100, pgid: 100, startTicks: 6000 });
    t.signaller.protect.set(70, "it is dbus-daemon, part of the desktop session");
    t.engine.start();
    const nextPid = { value: 1000 };
    scans(t, 8, () => bombScan(t, 100, nextPid));
    await t.monitor.idle();
    t.clock.advance(200);
    const [bomb] = t.anomalies();
    expect(bomb).toMatchObject({ name: "bomb", pid: 100, type: "fork_bomb" });
    expect(bomb!.figures.survivors).toBe(0);
    expect(t.signaller.sent.filter(([pid]) => pid === 60 || pid === 70)).toEqual([]);
    expect(t.source.processes.get(60)?.state).toBe("S");
    expect(t.source.processes.get(70)?.state).toBe("S");
  });

  it("judges only the program's own process: a stranger that took its PID before its end was told is not a root", async () => {
    const t = setup([{ ...watched("prog", { forkBomb: { maxDescendants: 20 } }), autostart: true }]);
    t.engine.start();
    await settle();
    const root = t.spawner.last.pid;
    t.clock.advance(1000);
    // The program ends; before its end reaches the engine (a keeper's notice is on its way),
    // its PID is taken by an unrelated shell with 40 programs of its own.
    t.source.remove(root);
    t.source.set(sample(root, { uid: UID, comm: "bash", sid: root, pgid: root, startTicks: 9_000_000 }));
    for (let i = 0; i < 40; i++) t.source.set(sample(7000 + i, { uid: UID, ppid: root, sid: root, pgid: root, comm: "sleep", startTicks: 9_000_001 + i }));
    scans(t, 3, () => undefined);
    await t.monitor.idle();
    expect(t.anomalies()).toEqual([]);
    expect(t.signaller.sent).toEqual([]);
  });

  it("with fork_bomb.action = restart, contains the bomb and starts the program again", async () => {
    const t = setup([{ ...watched("bomb", { forkBomb: { action: "restart" } }), autostart: true }]);
    t.engine.start();
    await settle();
    const root = t.spawner.last.pid;
    t.source.set({ ...t.source.processes.get(root)!, sid: root, pgid: root });
    const nextPid = { value: 1000 };
    scans(t, 8, () => bombScan(t, root, nextPid));
    await t.monitor.idle();
    await settle();
    expect(t.anomalies()[0]).toMatchObject({ type: "fork_bomb", pid: root });
    expect(t.anomalies()[0]!.figures.survivors).toBe(0);
    expect([...t.source.processes.values()].filter((p) => p.sid === root)).toEqual([]);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ name: "bomb", oldPid: root, reason: "anomaly" });
    expect(t.spawner.children).toHaveLength(2);
  });

  it("only notifies when fork_bomb.action = notify, and honours the policy's own max_descendants", async () => {
    const t = setup([watched("loud", { forkBomb: { action: "notify" } }), watched("roomy", { forkBomb: { maxDescendants: 500, maxSpawnRate: 0 } })]);
    running(t.source, 100, { comm: "loud" });
    running(t.source, 200, { comm: "roomy" });
    t.engine.start();
    const nextPid = { value: 1000 };
    for (let i = 0; i < 60; i++) {
      t.source.set(sample(nextPid.value++, { uid: UID, ppid: 100, sid: 100, pgid: 100 }));
      t.source.set(sample(nextPid.value++, { uid: UID, ppid: 200, sid: 200, pgid: 200 }));
    }
    scans(t, 5, () => undefined);
    await t.monitor.idle();
    expect(t.anomalies().map((a) => [a.name, a.action])).toEqual([["loud", "notified"]]);
    expect(t.signaller.sent).toEqual([]);
  });
});

describe("the global watch", () => {
  it("contains a bomb's own tree only: the session's other young programs, started from the same shell, are left alone", async () => {
    const t = setup([], { watchAll: true });
    running(t.source, 400, { comm: "bash", startTimeMs: t.clock.time - 3_600_000, startTicks: 10 });
    t.engine.start();
    // Ten programs the user started from the shell a moment ago: young, in its session, not the bomb's.
    for (let i = 0; i < 10; i++) t.source.set(sample(500 + i, { uid: UID, ppid: 400, sid: 400, pgid: 500 + i, comm: "editor", startTimeMs: t.clock.time, startTicks: 20 + i }));
    const nextPid = { value: 1000 };
    scans(t, 12, (s) => {
      if (s === 2) t.source.set(sample(nextPid.value++, { uid: UID, ppid: 400, sid: 400, pgid: 999, comm: "bomb", startTimeMs: t.clock.time, startTicks: 100 }));
      if (s > 2 && s < 10) {
        for (const process of [...t.source.processes.values()]) {
          if (process.comm === "bomb" && process.state !== "T") {
            t.source.set(sample(nextPid.value, { uid: UID, ppid: process.pid, sid: 400, pgid: 999, comm: "bomb", startTimeMs: t.clock.time, startTicks: 100 + nextPid.value++ }));
          }
        }
      }
    });
    await t.monitor.idle();
    expect(t.anomalies().map((a) => [a.name, a.type])).toContainEqual(["bomb", "fork_bomb"]);
    expect([...t.source.processes.values()].filter((p) => p.comm === "bomb")).toEqual([]);
    expect([...t.source.processes.values()].filter((p) => p.comm === "editor").map((p) => p.state)).toEqual(Array(10).fill("S"));
    expect(t.signaller.sent.filter(([pid]) => pid === 400 || (pid >= 500 && pid < 510))).toEqual([]);
  });

  it("is off by default: an unwatched leaker and bomb are left alone", async () => {
    const t = setup([]);
    running(t.source, 300, { comm: "leaker" });
    t.engine.start();
    const nextPid = { value: 1000 };
    scans(t, 30, (s) => {
      t.source.set({ ...t.source.processes.get(300)!, rssBytes: (60 + 5 * s) * MB });
      if (s < 6) bombScan(t, 300, nextPid);
    });
    await t.monitor.idle();
    expect(t.anomalies()).toEqual([]);
    expect(t.signaller.sent).toEqual([]);
  });

  it("when on, tells any process's leak by its name, and contains a session's young bomb but not its old shell", async () => {
    const t = setup([], { watchAll: true });
    running(t.source, 300, { comm: "leaker" });
    running(t.source, 400, { comm: "bash", startTimeMs: t.clock.time - 3_600_000 });
    running(t.source, 450, { comm: "other-user", uid: 1001, rssBytes: 60 * MB });
    t.engine.start();
    const nextPid = { value: 1000 };
    scans(t, 30, (s) => {
      t.source.set({ ...t.source.processes.get(300)!, rssBytes: (60 + 5 * s) * MB });
      t.source.set({ ...t.source.processes.get(450)!, rssBytes: (60 + 5 * s) * MB });
      if (s === 10) t.source.set(sample(nextPid.value++, { uid: UID, ppid: 400, sid: 400, pgid: 400, comm: "bomb", startTimeMs: t.clock.time }));
      if (s > 10 && s < 20) {
        for (const process of [...t.source.processes.values()]) {
          if (process.comm === "bomb" && process.state !== "T") {
            t.source.set(sample(nextPid.value++, { uid: UID, ppid: process.pid, sid: 400, pgid: 400, comm: "bomb", startTimeMs: t.clock.time }));
          }
        }
      }
    });
    await t.monitor.idle();
    const found = t.anomalies().map((a) => [a.name, a.type]);
    expect(found).toContainEqual(["leaker", "memory_leak"]);
    expect(found).toContainEqual(["bomb", "fork_bomb"]);
    expect(found.some(([name]) => name === "other-user")).toBe(false);
    expect([...t.source.processes.values()].filter((p) => p.comm === "bomb")).toEqual([]);
    expect(t.source.processes.has(400)).toBe(true);
    expect(t.signaller.sent.some(([pid]) => pid === 400 || pid === 300)).toBe(false);
  });
});

describe("fork bombs between scans (the fork-surge sentinel)", () => {
  const INTERVAL_SEC = 10;
  // `count` children under root, in its session, as a bomb forks them between two scans; the kernel's counter follows.
  function forkUnder(t: ReturnType<typeof setup>, root: number, count: number, firstPid = 1000): void {
    for (let i = 0; i < count; i++) t.source.set(sample(firstPid + i, { uid: UID, ppid: root, sid: root, pgid: root, comm: "bomb", startTicks: 1_000_000 + i }));
    t.forks.count += count;
  }

  it("contains a bomb within a look of its surge, long before the next scan", async () => {
    const t = setup([watched("bomb")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    t.clock.advance(100);
    forkUnder(t, 100, 60);
    t.clock.advance(100);
    await t.monitor.idle();
    const [bomb] = t.anomalies();
    expect(bomb).toMatchObject({ name: "bomb", pid: 100, type: "fork_bomb" });
    expect(bomb!.figures.survivors).toBe(0);
    expect(bomb!.figures.descendants).toBe(60);
    expect(bomb!.timeMs - t.clock.time).toBeLessThanOrEqual(0);
    expect([...t.source.processes.values()].filter((p) => p.sid === 100)).toEqual([]);
    // Told once: the next scan does not report it again.
    t.clock.advance(INTERVAL_SEC * 1000);
    await t.monitor.idle();
    expect(t.anomalies().filter((e) => e.type === "fork_bomb")).toHaveLength(1);
  });

  // A peek carries a process new since the last scan as it first read it. A program read just after its
  // keeper forked it had not yet left the keeper's session; the bomb's children, reparented when their
  // parents exit, are its members only by its session: the look must read the program itself afresh.
  it("finds a bomb whose program a peek first read before it left its keeper's session", async () => {
    const keeperSession = 90;
    const stale = (source: FakeSource) => (fresh: PeekFresh) => {
      const snapshot = source.scan();
      const root = snapshot.processes.get(100);
      const afresh = fresh !== "new" && ("newAnd" in fresh ? fresh.newAnd : fresh).has(100);
      if (root === undefined || afresh) return snapshot;
      const processes = new Map(snapshot.processes).set(100, { ...root, sid: keeperSession, pgid: keeperSession, comm: "selfheal-keeper" });
      return { ...snapshot, processes };
    };
    const t = setup([watched("bomb")], {}, INTERVAL_SEC, stale);
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    t.clock.advance(100);
    // 60 children in the program's session whose parents have exited (reparented to PID 1).
    for (let i = 0; i < 60; i++) t.source.set(sample(1000 + i, { uid: UID, ppid: 1, sid: 100, pgid: 100, comm: "bomb", startTicks: 1_000_000 + i }));
    t.forks.count += 60;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ name: "bomb", pid: 100, type: "fork_bomb" });
    expect([...t.source.processes.values()].filter((p) => p.sid === 100)).toEqual([]);
  });

  it("leaves a quick burst below the thresholds alone: the surge's look judges the count, not a rate over 0.1 s", async () => {
    const t = setup([watched("burst")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "burst" });
    t.engine.start();
    t.clock.advance(100);
    forkUnder(t, 100, 30);
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()).toEqual([]);
    expect(t.signaller.sent).toEqual([]);
  });

  it("looks at the table only once the surges since the last look could have taken a tree past max_descendants", async () => {
    const t = setup([watched("busy")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "busy" });
    t.engine.start();
    t.clock.advance(100);
    // Another program's build: 15 forks a look, three looks: 45 in all, fewer than the 50 a bomb of "busy" would need.
    for (let i = 0; i < 3; i++) {
      t.forks.count += 15;
      t.clock.advance(100);
    }
    expect(t.looks.peeks).toBe(0);
    t.forks.count += 15;
    t.clock.advance(100);
    expect(t.looks.peeks).toBe(1);
    expect(t.anomalies()).toEqual([]);
  });

  it("counts the forks that follow a surge at a slower pace too: a bomb that slows down is still contained before the next scan", async () => {
    const t = setup([watched("bomb")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    t.clock.advance(100);
    // 45 at once (a surge, short of the 50 that call for a look), then 5 a look (each below the surge's 10): 95 within 1.1 s.
    forkUnder(t, 100, 45);
    t.clock.advance(100);
    for (let i = 0; i < 10; i++) {
      forkUnder(t, 100, 5, 2000 + i * 5);
      t.clock.advance(100);
    }
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ name: "bomb", type: "fork_bomb" });
  });

  it("takes a surge of another program's forks in at a peek: no full rescan while no tree is near max_descendants", async () => {
    const t = setup([watched("busy")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "busy" });
    t.engine.start();
    t.clock.advance(100);
    // A build elsewhere: 60 processes in another session; and 20 children of busy, below its 50.
    for (let i = 0; i < 60; i++) t.source.set(sample(3000 + i, { uid: UID, ppid: 1, sid: 2999, pgid: 2999, comm: "cc", startTicks: 3_000_000 + i }));
    forkUnder(t, 100, 20);
    t.forks.count += 60;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.looks.peeks).toBe(1);
    expect(t.looks.rescans).toBe(0);
    expect(t.anomalies()).toEqual([]);
    // Now busy has 50: the peek sees a tree at its limit, and the full look judges and contains it.
    forkUnder(t, 100, 30, 1020);
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.looks.rescans).toBeGreaterThanOrEqual(1);
    expect(t.anomalies()[0]).toMatchObject({ name: "busy", type: "fork_bomb" });
  });

  // The bomb forks on while the daemon reads the whole table (and on a busy machine takes much of the
  // CPU that read waits for): its group is stopped on the peek. A peek that read every member it counted
  // just now needs no full look to call it a bomb: a second peek (what was forked since) is the look after the stop.
  it("stops the program's group on the peek that shows its tree at the limit; with every member counted read by that peek, kills it after a second peek, with no full look before the kill", async () => {
    const t = setup([watched("bomb")], {}, INTERVAL_SEC, undefined, { groups: true });
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    t.clock.advance(100);
    forkUnder(t, 100, 60);
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ name: "bomb", pid: 100, type: "fork_bomb" });
    const look = t.order.slice(t.order.indexOf("peek"));
    expect(look.slice(0, 5)).toEqual(["peek", "group SIGSTOP 100", "peek", "group SIGSTOP 100", "group SIGKILL 100"]);
    expect([...t.source.processes.values()].filter((p) => p.sid === 100)).toEqual([]);
    // The event dates the first stop before the full look began.
    const { firstStopMs, lookMs } = t.anomalies()[0]!.figures;
    expect(firstStopMs).toBeLessThanOrEqual(lookMs!);
  });

  it("confirms on a full look a tree the peek counts past its limit only with members carried from earlier reads, and lets the held group run again when that look finds no bomb, but not a member stopped before the hold", async () => {
    // The peek still carries 30 children from an earlier read that have ended since: it counts 60, the full look 30.
    const ghosts = (source: FakeSource) => () => {
      const snapshot = source.scan();
      const processes = new Map(snapshot.processes);
      for (let i = 0; i < 30; i++) processes.set(5000 + i, sample(5000 + i, { uid: UID, ppid: 100, sid: 100, pgid: 100, comm: "bomb", startTicks: 5_000_000 + i }));
      return { ...snapshot, processes, readNow: new Set(snapshot.processes.keys()) };
    };
    const t = setup([watched("bomb")], {}, INTERVAL_SEC, ghosts, { groups: true });
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    t.clock.advance(100);
    forkUnder(t, 100, 30);
    // One of them the user stopped (job control) before the surge.
    t.source.set({ ...t.source.processes.get(1005)!, state: "T" });
    t.forks.count += 30;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.order.slice(t.order.indexOf("peek"), t.order.indexOf("rescan"))).toEqual(["peek", "group SIGSTOP 100"]);
    expect(t.anomalies()).toEqual([]);
    const group = [...t.source.processes.values()].filter((p) => p.pgid === 100);
    expect(group).toHaveLength(31);
    expect(group.filter((p) => p.state === "T").map((p) => p.pid)).toEqual([1005]);
    // Each let go alone, named by its start time; nothing else was sent.
    expect(t.signaller.sent.map(([, signal]) => signal)).toEqual(Array(30).fill("SIGCONT"));
  });

  // The guard judges a group stop on the snapshot it is given: on a peek, a process carried from the last
  // scan could have changed since (exec'd a setuid program). The peek reads the programs' sessions afresh.
  it("judges a hold on what the peek read afresh: a process of the session that became another user's since the last scan is not stopped", async () => {
    const read: PeekFresh[] = [];
    const staleHelper = (source: FakeSource) => (fresh: PeekFresh) => {
      read.push(fresh);
      const snapshot = source.scan();
      // As the scanner's peek: { newAnd } reads the sessions its PIDs lead afresh (the helper is in 100's).
      const afresh = fresh === "new" || ("newAnd" in fresh ? fresh.newAnd.has(900) || fresh.newAnd.has(100) : fresh.has(900));
      if (afresh) return snapshot;
      const processes = new Map(snapshot.processes).set(900, { ...snapshot.processes.get(900)!, uid: UID });
      return { ...snapshot, processes };
    };
    const t = setup([watched("bomb")], {}, INTERVAL_SEC, staleHelper, { groups: true });
    running(t.source, 100, { comm: "bomb" });
    t.source.set(sample(900, { uid: UID, ppid: 100, sid: 100, pgid: 100, comm: "helper", startTicks: 900_000 }));
    t.engine.start();
    // After the first scan, the helper exec'd a setuid program: another user's now.
    t.source.set({ ...t.source.processes.get(900)!, uid: 0, comm: "passwd" });
    t.clock.advance(100);
    forkUnder(t, 100, 60);
    t.clock.advance(100);
    await t.monitor.idle();
    expect(read.length).toBeGreaterThan(0);
    expect(t.order.slice(t.order.indexOf("peek"))[1]).toBe("rescan");
    expect(t.source.processes.get(900)?.state).not.toBe("T");
  });

  it("holds no group of a policy that only notifies of a bomb, nor one of a session with a protected process", async () => {
    const notify = setup([watched("bomb", { forkBomb: { action: "notify" } })], {}, INTERVAL_SEC, undefined, { groups: true });
    const guarded = setup([watched("bomb")], {}, INTERVAL_SEC, undefined, { groups: true });
    guarded.signaller.protect.set(1010, "it is the session's shell");
    for (const t of [notify, guarded]) {
      running(t.source, 100, { comm: "bomb" });
      t.engine.start();
      t.clock.advance(100);
      forkUnder(t, 100, 60);
      t.clock.advance(100);
      await t.monitor.idle();
      const look = t.order.slice(t.order.indexOf("peek"));
      expect(look[1]).toBe("rescan");
      expect(t.anomalies()[0]).toMatchObject({ name: "bomb", type: "fork_bomb" });
    }
    expect(notify.order.filter((step) => step.startsWith("SIG") || step.startsWith("group"))).toEqual([]);
    // The protected process is never reached; the others are contained one by one.
    expect(guarded.order.some((step) => step.endsWith(" 1010"))).toBe(false);
    expect(guarded.source.processes.get(1010)?.state).not.toBe("T");
    expect([...guarded.source.processes.keys()].filter((pid) => pid >= 1000 && pid !== 1010)).toEqual([]);
  });

  it("without a surge of the fork counter, waits for the scan", async () => {
    const t = setup([watched("bomb")], {}, INTERVAL_SEC);
    running(t.source, 100, { comm: "bomb" });
    t.engine.start();
    forkUnder(t, 100, 60);
    t.forks.count -= 60;
    t.clock.advance(1000);
    await t.monitor.idle();
    expect(t.anomalies()).toEqual([]);
    t.clock.advance(INTERVAL_SEC * 1000);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ name: "bomb", type: "fork_bomb" });
  });

  // A bomb forks from its own children: 60 young processes in a tree under one young root.
  it("under the global watch, contains a session's young bomb at its surge", async () => {
    const t = setup([], { watchAll: true }, INTERVAL_SEC);
    running(t.source, 300, { comm: "sh", startTimeMs: t.clock.time - 3_600_000 });
    t.engine.start();
    t.clock.advance(100);
    for (let i = 0; i < 60; i++) {
      const ppid = i === 0 ? 300 : 2000 + Math.floor((i - 1) / 2);
      t.source.set(sample(2000 + i, { uid: UID, ppid, sid: 300, pgid: 300, comm: "bomb", startTicks: 2_000_000 + i, startTimeMs: t.clock.time }));
    }
    t.forks.count += 60;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ type: "fork_bomb" });
    expect([...t.source.processes.values()].filter((p) => p.comm === "bomb")).toEqual([]);
    expect(t.source.processes.has(300)).toBe(true);
  });

  // The daemon is told by the table's own PID, not by the PID of the process running the test: a fake
  // table's numbers may meet that one (PIDs wrap), and a member it named would have been left alive.
  it("under the global watch, never counts the daemon itself among a young bomb's members", async () => {
    const t = setup([], { watchAll: true }, INTERVAL_SEC);
    running(t.source, 300, { comm: "sh", startTimeMs: t.clock.time - 3_600_000 });
    t.engine.start();
    t.clock.advance(100);
    const pids = [...Array.from({ length: 59 }, (_, i) => 2000 + i), t.engine.selfPid];
    pids.forEach((pid, i) => {
      const ppid = i === 0 ? 300 : pids[Math.floor((i - 1) / 2)]!;
      t.source.set(sample(pid, { uid: UID, ppid, sid: 300, pgid: 300, comm: "bomb", startTicks: 2_000_000 + i, startTimeMs: t.clock.time }));
    });
    t.forks.count += 60;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ type: "fork_bomb" });
    expect([...t.source.processes.values()].filter((p) => p.comm === "bomb").map((p) => p.pid)).toEqual([t.engine.selfPid]);
    expect(t.signaller.sent.filter(([pid]) => pid === t.engine.selfPid)).toEqual([]);
  });

  // 60 young children of the old shell, none with a child of its own: no young root to end them by.
  it("under the global watch, tells a flat fan-out from an old shell but ends nothing", async () => {
    const t = setup([], { watchAll: true }, INTERVAL_SEC);
    running(t.source, 300, { comm: "sh", startTimeMs: t.clock.time - 3_600_000 });
    t.engine.start();
    t.clock.advance(100);
    for (let i = 0; i < 60; i++) t.source.set(sample(2000 + i, { uid: UID, ppid: 300, sid: 300, pgid: 300, comm: "job", startTicks: 2_000_000 + i, startTimeMs: t.clock.time }));
    t.forks.count += 60;
    t.clock.advance(100);
    await t.monitor.idle();
    expect(t.anomalies()[0]).toMatchObject({ type: "fork_bomb" });
    expect(t.signaller.sent).toEqual([]);
    expect([...t.source.processes.values()].filter((p) => p.comm === "job")).toHaveLength(60);
  });
});
