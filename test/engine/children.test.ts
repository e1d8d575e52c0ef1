// Programs that fork away, and no second copy, with a fake clock and a
// synthetic process table: the engine follows a keeper's fork (still its own
// program), follows a session's survivor without a keeper (by PID), goes on
// with a stop through a fork, and adopts a running copy instead of starting one.
import { describe, expect, it } from "vitest";
import { Engine } from "../../daemon/engine/engine.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { Config, Policy } from "../../daemon/config/policy.js";
import { FAKE_RECORDS_FOLDER, FakeClock, FakeProbe, FakeSource, FakeSpawner, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../helpers/fakes.js";

function setup(policies: Policy[], withKeepers: boolean) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  spawner.withKeepers = withKeepers;
  const signaller = new RecordingSignaller();
  const config: Config = { settings: { intervalSec: 1 }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: new FakeProbe(source), spawner, signaller, cooldownStore: new MemoryCooldownStore({}), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  return { clock, source, spawner, signaller, engine, events };
}

describe("a program that forks away", () => {
  it.each(["on-failure", "always", "never"] as const)("held by a keeper: followed under restart = %s, still selfheal's own, nothing started again", async (restart) => {
    const t = setup([policy("svc", { autostart: true, restart })], true);
    t.engine.start();
    await settle();
    const launcher = t.spawner.last;
    const launcherPid = launcher.pid;
    t.source.remove(launcherPid);
    t.source.set(sample(6000, { comm: "svc", uid: 1000, ppid: launcher.keeperPid! }));
    launcher.follow(6000, sample(6000).startTicks);
    await settle();
    expect(t.events.find((e) => e.kind === "followed")).toMatchObject({ name: "svc", oldPid: launcherPid, newPid: 6000, managed: true });
    expect(t.events.find((e) => e.kind === "followed")!.message).toBe(`svc: followed PID 6000, the program forked away (PID ${launcherPid} exited 0)`);
    expect(t.engine.get("svc")).toMatchObject({ pid: 6000, managed: true, state: "running" });
    t.engine.tick();
    expect(t.spawner.children).toHaveLength(1);
    // Its end is known: a crash is a crash.
    t.source.remove(6000);
    launcher.exit(null, "SIGSEGV");
    await settle();
    expect(t.events.find((e) => e.kind === "crashed")).toMatchObject({ pid: 6000, signal: "SIGSEGV", statusKnown: true, willRestart: restart !== "never" });
  });

  it("without a keeper: exit 0 while a process of its session lives on follows that process by PID", async () => {
    const t = setup([policy("svc", { autostart: true, restart: "always" })], false);
    t.engine.start();
    await settle();
    const launcher = t.spawner.last;
    t.source.remove(launcher.pid);
    t.source.set(sample(6001, { comm: "svc-real", uid: 1000, sid: launcher.pid, ppid: 1 }));
    launcher.exit(0);
    await settle();
    const followed = t.events.find((e) => e.kind === "followed");
    expect(followed).toMatchObject({ oldPid: launcher.pid, newPid: 6001, managed: false });
    expect(followed!.message).toContain("its exit status will not be known");
    expect(t.engine.get("svc")).toMatchObject({ pid: 6001, managed: false });
    expect(t.spawner.children).toHaveLength(1);
    // Its end is seen by a scan, status unknown; restart = always starts the program again.
    t.source.remove(6001);
    t.engine.tick();
    await settle();
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ pid: 6001, statusKnown: false });
    expect(t.spawner.children).toHaveLength(2);
  });

  it("a crash is not followed, even with a process of its session left", async () => {
    const t = setup([policy("svc", { autostart: true })], false);
    t.engine.start();
    await settle();
    const launcher = t.spawner.last;
    t.source.remove(launcher.pid);
    t.source.set(sample(6002, { comm: "helper", uid: 1000, sid: launcher.pid }));
    launcher.exit(1);
    await settle();
    expect(t.events.find((e) => e.kind === "followed")).toBeUndefined();
    expect(t.events.find((e) => e.kind === "crashed")).toMatchObject({ pid: launcher.pid, exitCode: 1 });
    expect(t.spawner.children).toHaveLength(2);
  });

  it("a stop under way goes on with the process it forked to", async () => {
    const t = setup([policy("svc", { autostart: true, restart: "always" })], true);
    t.engine.start();
    await settle();
    const launcher = t.spawner.last;
    const launcherPid = launcher.pid;
    const stopped = t.engine.stopProcess("svc");
    expect(t.signaller.sent).toEqual([[launcherPid, "SIGTERM"]]);
    t.source.remove(launcherPid);
    t.source.set(sample(6003, { comm: "svc", uid: 1000, ppid: launcher.keeperPid! }));
    launcher.follow(6003, sample(6003).startTicks);
    expect(t.signaller.sent).toEqual([
      [launcherPid, "SIGTERM"],
      [6003, "SIGTERM"],
    ]);
    // It ignores SIGTERM: SIGKILL after the stop timeout, as for any stop.
    t.clock.advance(5_000);
    expect(t.signaller.sent.at(-1)).toEqual([6003, "SIGKILL"]);
    t.source.remove(6003);
    launcher.exit(null, "SIGKILL");
    await stopped;
    expect(t.engine.get("svc")).toMatchObject({ pid: 0, state: "stopped" });
    expect(t.spawner.children).toHaveLength(1);
  });
});

describe("never a second copy", () => {
  it("a restart finds a copy started by hand: it is adopted instead", async () => {
    const t = setup([policy("ed", { autostart: true, restart: "always" })], true);
    t.engine.start();
    await settle();
    const ours = t.spawner.last;
    t.source.set(sample(6100, { comm: "ed", uid: 1000 }));
    t.source.remove(ours.pid);
    ours.exit(null, "SIGSEGV");
    await settle();
    const crashed = t.events.find((e) => e.kind === "crashed");
    expect(crashed).toMatchObject({ signal: "SIGSEGV", willRestart: false });
    expect(crashed!.message).toContain("not restarted: a copy runs already (PID 6100)");
    expect(t.events.map((e) => e.kind).slice(-2)).toEqual(["crashed", "adopted"]);
    expect(t.events.find((e) => e.kind === "adopted")).toMatchObject({ pid: 6100 });
    expect(t.events.find((e) => e.kind === "adopted")!.message).toContain("instead of starting a second copy");
    expect(t.engine.get("ed")).toMatchObject({ pid: 6100, managed: false });
    expect(t.spawner.children).toHaveLength(1);
  });

  it("what is left of the crashed program's own session is not a copy: a new one starts", async () => {
    const t = setup([policy("ed", { autostart: true })], true);
    t.engine.start();
    await settle();
    const ours = t.spawner.last;
    t.source.set(sample(6101, { comm: "ed", uid: 1000, sid: ours.pid }));
    t.source.remove(ours.pid);
    ours.exit(null, "SIGSEGV");
    await settle();
    expect(t.events.find((e) => e.kind === "adopted")).toBeUndefined();
    expect(t.spawner.children).toHaveLength(2);
  });

  it("neither a keeper (its command line may carry the program's) nor a zombie is a copy", async () => {
    const t = setup([policy("ed", { autostart: true, match: "/ed-prog/" })], true);
    t.source.set(sample(6102, { comm: "selfheal-keeper", uid: 1000 }), sample(6103, { comm: "ed-prog", uid: 1000, state: "Z" }));
    t.source.cmdlines.set(6102, ["selfheal-keeper", "/run/user/1000/selfheal", "ed-prog"]);
    t.source.cmdlines.set(6103, ["ed-prog"]);
    t.engine.start();
    await settle();
    expect(t.events.filter((e) => e.kind === "adopted")).toEqual([]);
    expect(t.spawner.children).toHaveLength(1);
  });

  it("a program held by another daemon's keeper (records in another folder) is never taken for a copy, nor adopted", async () => {
    const t = setup([policy("ed", { autostart: true, restart: "always" })], true);
    t.source.set(sample(6200, { comm: "selfheal-keeper", uid: 1000 }), sample(6201, { comm: "ed", uid: 1000, ppid: 6200 }));
    t.source.cmdlines.set(6200, ["selfheal-keeper", "/tmp/another-daemon/runtime/selfheal"]);
    t.engine.start();
    await settle();
    expect(t.events.filter((e) => e.kind === "adopted")).toEqual([]);
    expect(t.spawner.children).toHaveLength(1);
    const ours = t.spawner.last;
    t.source.remove(ours.pid);
    ours.exit(null, "SIGSEGV");
    await settle();
    expect(t.events.filter((e) => e.kind === "adopted")).toEqual([]);
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ oldPid: ours.pid });
    expect(t.spawner.children).toHaveLength(2);
  });

  it("a program held by a keeper of this daemon's folder whose record is gone is a copy: adopted, not started twice", async () => {
    const t = setup([policy("ed", { autostart: true })], true);
    t.source.set(sample(6202, { comm: "selfheal-keeper", uid: 1000 }), sample(6203, { comm: "ed", uid: 1000, ppid: 6202 }));
    t.source.cmdlines.set(6202, ["selfheal-keeper", FAKE_RECORDS_FOLDER]);
    t.engine.start();
    await settle();
    expect(t.engine.get("ed")).toMatchObject({ pid: 6203, managed: false });
    expect(t.spawner.children).toHaveLength(0);
  });

  it("StartProcess adopts a copy that runs unwatched rather than start another", async () => {
    const t = setup([policy("ed")], true);
    t.engine.start();
    await t.engine.stopProcess("ed");
    t.source.set(sample(6104, { comm: "ed", uid: 1000 }));
    await t.engine.startProcess("ed");
    expect(t.engine.get("ed")).toMatchObject({ pid: 6104, managed: false });
    expect(t.spawner.children).toHaveLength(0);
  });
});
