// The engine never harms what the guard protects and never falls over on a
// refused or failed action: with a fake clock and a synthetic process table,
// every action path is driven against a protected target and against a
// process that vanished meanwhile (its PID even taken by another process).
// Any error escaping the engine fails the test (test/setup/failOnUnhandled.ts).
import { describe, expect, it } from "vitest";
import { Engine } from "../../daemon/engine/engine.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { Config, Policy } from "../../daemon/config/policy.js";
import type { ProcessProbe } from "../../daemon/proc/probe.js";
import { FAKE_SELF_PID, FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../helpers/fakes.js";

const MB = 1024 * 1024;

function setup(policies: Policy[], probeFor: (source: FakeSource) => ProcessProbe = (source) => new FakeProbe(source)) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  const signaller = new RecordingSignaller();
  const config: Config = { settings: { intervalSec: 1 }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: probeFor(source), spawner, signaller, cooldownStore: new MemoryCooldownStore(), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  const of = <K extends EngineEvent["kind"]>(kind: K) => events.filter((e): e is Extract<EngineEvent, { kind: K }> => e.kind === kind);
  return { clock, source, spawner, signaller, engine, events, of };
}

// A scan every second for `seconds` seconds.
function scan(t: ReturnType<typeof setup>, seconds: number): void {
  for (let i = 0; i < seconds; i++) {
    t.clock.advance(1000);
    t.engine.tick();
  }
}

describe("a refused action never escapes the engine", () => {
  for (const action of ["restart", "kill"] as const) {
    it(`a memory limit with on_violation = ${action} on a process the guard refuses at the moment of the signal: an event, the process let go, the engine goes on`, async () => {
      const t = setup([policy("hog", { memoryLimitBytes: 100 * MB, sustain: 1, memorySustainSec: 0, onViolation: action, scope: "process" }), policy("other", { autostart: true })]);
      t.source.set(sample(42, { comm: "hog", rssBytes: 10 * MB }));
      t.engine.start();
      await settle();
      expect(t.engine.get("hog").pid).toBe(42);
      // Between the scan and the signal, the process became one the guard protects (it exec'd a session program).
      t.signaller.refuse.add(42);
      t.source.set(sample(42, { comm: "hog", rssBytes: 150 * MB }));
      scan(t, 1);
      await settle();
      expect(t.of("violation")).toHaveLength(1);
      expect(t.of("protected")).toMatchObject([{ name: "hog", pid: 42 }]);
      expect(t.signaller.sent).toEqual([]);
      // Not acted on again, and not watched any more.
      scan(t, 3);
      await settle();
      expect(t.of("protected")).toHaveLength(1);
      expect(t.engine.get("hog")).toMatchObject({ pid: 0 });
      // The engine still works: another program's crash is restarted.
      t.spawner.crashLast(null, "SIGSEGV");
      await settle();
      expect(t.of("restarted")).toMatchObject([{ name: "other", reason: "crash" }]);
    });

    it(`a memory limit with on_violation = ${action} on an adopted process that vanished and whose PID another process took: that one is never signalled`, async () => {
      const t = setup([policy("hog", { memoryLimitBytes: 100 * MB, sustain: 1, memorySustainSec: 0, onViolation: action, scope: "process", restart: "never" })]);
      t.source.set(sample(42, { comm: "hog", rssBytes: 10 * MB, startTicks: 420 }));
      t.engine.start();
      expect(t.engine.get("hog").pid).toBe(42);
      // 42 ended and its PID went to another process, over the limit; the between-scans check runs before the next scan.
      t.source.set(sample(42, { comm: "stranger", rssBytes: 150 * MB, startTicks: 999 }));
      t.engine.checkMemory();
      await settle();
      expect(t.signaller.sent).toEqual([]);
      expect(t.of("violation")).toEqual([]);
      // The next scan tells its end; the stranger is neither adopted nor signalled.
      scan(t, 1);
      await settle();
      expect(t.signaller.sent).toEqual([]);
      expect(t.engine.get("hog")).toMatchObject({ pid: 0 });
    });

    it(`a breach acted on just after the process vanished (PID taken by another): nothing is signalled (${action})`, async () => {
      // The probe measures 42 while it is still the same process; by the time the signal would leave, it is gone.
      let looks = 0;
      const t = setup([policy("hog", { memoryLimitBytes: 100 * MB, sustain: 1, memorySustainSec: 0, onViolation: action, scope: "process" })], (source) => ({
        rssBytes: () => 150 * MB,
        exists: (pid) => source.processes.has(pid),
        isAlive: (pid, ticks) => ++looks === 1 || source.processes.get(pid)?.startTicks === ticks,
      }));
      t.source.set(sample(42, { comm: "hog", rssBytes: 10 * MB, startTicks: 420 }));
      t.engine.start();
      t.source.set(sample(42, { comm: "stranger", startTicks: 999 }));
      t.engine.checkMemory();
      await settle();
      expect(t.of("violation")).toHaveLength(1);
      expect(t.signaller.sent).toEqual([]);
      // Told as an end it had already reached; a restart policy starts a fresh one, a kill leaves it stopped.
      expect(t.of("stopped")[0]?.message).toContain("had already ended");
      expect(t.engine.get("hog")).toMatchObject(action === "restart" ? { state: "running", managed: true } : { pid: 0, state: "stopped" });
    });
  }

  it("an anomaly's action (actOn) on a refused process rejects with Protected, tells it, and lets it go", async () => {
    const t = setup([policy("leaky")]);
    t.source.set(sample(42, { comm: "leaky" }));
    t.engine.start();
    t.signaller.refuse.add(42);
    await expect(t.engine.actOn("leaky", "restart", "anomaly")).rejects.toMatchObject({ errorName: "Protected" });
    await expect(t.engine.actOn("leaky", "kill", "anomaly")).resolves.toBeUndefined();
    expect(t.of("protected")).toHaveLength(1);
    expect(t.engine.get("leaky").pid).toBe(0);
  });

  it("StopProcess, RestartProcess and actOn on an adopted process that vanished, its PID taken by another: nothing is signalled, the unit ends", async () => {
    for (const call of ["stop", "restart", "actOn"] as const) {
      const t = setup([policy("gone", { restart: "never" })]);
      t.source.set(sample(42, { comm: "gone", startTicks: 420 }));
      t.engine.start();
      t.source.set(sample(42, { comm: "stranger", startTicks: 999 }));
      if (call === "stop") await t.engine.stopProcess("gone");
      else if (call === "restart") await t.engine.restartProcess("gone");
      else await t.engine.actOn("gone", "kill", "anomaly");
      expect(t.signaller.sent, call).toEqual([]);
      // A restart starts a new one; the others leave it stopped.
      expect(t.engine.get("gone").state, call).toBe(call === "restart" ? "running" : "stopped");
      expect(t.spawner.children, call).toHaveLength(call === "restart" ? 1 : 0);
    }
  });

  it("a failure inside a timer (cooldown end) becomes an internal-error event, not an exception", async () => {
    const t = setup([policy("loop", { autostart: true, restart: "always", cooldown: { maxRestarts: 1, windowSec: 60, pauseSec: 5 } })]);
    t.engine.start();
    await settle();
    t.spawner.crashLast(1);
    await settle();
    t.clock.advance(1000);
    await settle();
    t.spawner.crashLast(1);
    await settle();
    expect(t.engine.get("loop").state).toBe("cooldown");
    // The adoption look at the cooldown's end fails.
    t.source.readCmdline = () => {
      throw new Error("injected fault");
    };
    t.engine.applyConfig({
      settings: { intervalSec: 1 },
      policies: new Map([["loop", policy("loop", { autostart: true, restart: "always", match: "/loop/", cooldown: { maxRestarts: 1, windowSec: 60, pauseSec: 5 } })]]),
    } as Config);
    t.source.set(sample(77, { comm: "x" }));
    expect(() => t.clock.advance(10_000)).not.toThrow();
    await settle();
    // Told (once per place, not once per scan), and the program was started again all the same.
    const errors = t.of("internal-error");
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(new Set(errors.map((e) => e.where)).size).toBe(errors.length);
    expect(errors[0]!.error).toContain("injected fault");
    expect(t.of("cooldown-ended")).toHaveLength(1);
    expect(t.spawner.children).toHaveLength(3);
  });
});

describe("protected processes are never adopted or counted", () => {
  it("a policy whose match names only protected processes adopts none, says so once, and shows it", () => {
    // As broad as validation lets a pattern be (/./ itself is refused: it would match every command line).
    const t = setup([policy("everything", { match: "/[a-z]/" })]);
    t.source.set(sample(1, { comm: "systemd" }), sample(2, { comm: "gnome-shell" }));
    t.source.cmdlines.set(1, ["/sbin/init"]);
    t.source.cmdlines.set(2, ["gnome-shell"]);
    t.signaller.protect.set(1, "it is PID 1 (init)");
    t.signaller.protect.set(2, "it is gnome-shell, part of the desktop session");
    t.engine.start();
    scan(t, 5);
    expect(t.engine.get("everything")).toMatchObject({ pid: 0, state: "stopped" });
    expect(t.of("adopted")).toEqual([]);
    expect(t.of("protected-match")).toHaveLength(1);
    expect(t.of("protected-match")[0]).toMatchObject({ name: "everything", pid: 1, reason: "it is PID 1 (init)" });
    expect(t.engine.get("everything").protectedMatch).toContain("PID 1");
  });

  // The daemon is told by the table's own PID (the source's selfPid), not by the PID of whatever runs the engine.
  it("never adopts the daemon itself, by the table's own PID", () => {
    const t = setup([policy("everything", { match: "/[a-z]/" })]);
    t.source.set(sample(FAKE_SELF_PID, { comm: "node", startTicks: 1 }), sample(50, { comm: "editor", startTicks: 100 }));
    t.source.cmdlines.set(FAKE_SELF_PID, ["node", "selfheal"]);
    t.source.cmdlines.set(50, ["editor"]);
    t.engine.start();
    expect(t.engine.get("everything")).toMatchObject({ pid: 50, state: "running" });
  });

  // The sentinel is the daemon's child ("selfheal-sentinel" on its command line): a broad match must not take it for a program.
  it("never adopts the daemon's sentinel process", () => {
    const t = setup([policy("everything", { match: "/selfheal/" })]);
    t.source.set(sample(40, { comm: "selfheal-sentin", ppid: FAKE_SELF_PID, startTicks: 1 }), sample(50, { comm: "selfheal-app", startTicks: 100 }));
    t.source.cmdlines.set(40, ["/home/u/.local/share/selfheal/selfheal-sentinel"]);
    t.source.cmdlines.set(50, ["selfheal-app"]);
    t.engine.start();
    expect(t.engine.get("everything")).toMatchObject({ pid: 50, state: "running" });
  });

  it("adopts the next match that is not protected", () => {
    const t = setup([policy("everything", { match: "/[a-z]/" })]);
    t.source.set(sample(1, { comm: "systemd" }), sample(50, { comm: "editor" }));
    t.source.cmdlines.set(1, ["/sbin/init"]);
    t.source.cmdlines.set(50, ["editor"]);
    t.signaller.protect.set(1, "it is PID 1 (init)");
    t.engine.start();
    expect(t.engine.get("everything")).toMatchObject({ pid: 50, state: "running" });
  });

  it("lets go of a watched process that became protected (it exec'd a session program)", () => {
    const t = setup([policy("app")]);
    t.source.set(sample(42, { comm: "app" }));
    t.engine.start();
    expect(t.engine.get("app").pid).toBe(42);
    t.signaller.protect.set(42, "it is dbus-daemon, part of the desktop session");
    scan(t, 1);
    expect(t.engine.get("app").pid).toBe(0);
    expect(t.of("protected-match")).toHaveLength(1);
  });

  it("leaves protected descendants out of a tree's sums", () => {
    const t = setup([policy("tree", { cpuLimit: 100, sustain: 1, onViolation: "notify", scope: "tree" })]);
    t.source.set(sample(10, { comm: "tree", cpuPercent: 30 }), sample(11, { ppid: 10, comm: "dbus-daemon", cpuPercent: 90 }), sample(12, { ppid: 10, cpuPercent: 20 }));
    t.signaller.protect.set(11, "it is dbus-daemon, part of the desktop session");
    t.engine.start();
    scan(t, 2);
    expect(t.of("violation")).toEqual([]);
    expect(t.engine.get("tree").cpuPercent).toBe(50);
  });

  it("leaves out of a tree's sums what runs under a protected descendant (a terminal's shell and its programs)", () => {
    const t = setup([policy("terminal", { memoryLimitBytes: 100 * MB, sustain: 1, memorySustainSec: 0, onViolation: "notify", scope: "tree" })]);
    t.source.set(
      sample(10, { comm: "terminal", rssBytes: 20 * MB }),
      sample(11, { ppid: 10, comm: "bash", sid: 11, ttyNr: 34816, rssBytes: 5 * MB }),
      sample(12, { ppid: 11, comm: "editor", sid: 11, rssBytes: 200 * MB }),
    );
    t.signaller.protect.set(11, "it is bash, which leads a terminal session (a login or terminal shell)");
    t.engine.start();
    scan(t, 2);
    expect(t.engine.get("terminal").rssBytes).toBe(20 * MB);
    expect(t.of("violation")).toEqual([]);
  });
});

describe("the memory check between scans", () => {
  it("still reads a child started since the last scan (not yet known by start time)", async () => {
    const t = setup([policy("hog", { autostart: true, memoryLimitBytes: 100 * MB, sustain: 1, memorySustainSec: 0, scope: "process" })]);
    t.engine.start();
    await settle();
    const child = t.spawner.last.pid;
    t.source.set({ ...t.source.processes.get(child)!, rssBytes: 150 * MB });
    t.engine.checkMemory();
    await settle();
    expect(t.of("violation")).toMatchObject([{ name: "hog", pid: child }]);
    expect(t.signaller.sent).toEqual([[child, "SIGTERM"]]);
  });
});
