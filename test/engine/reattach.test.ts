// Re-attachment, with a fake clock and a synthetic process table: programs an
// earlier run of the daemon started come back through their keepers (the
// spawner's recover()) as selfheal's own, and an end recorded while no daemon
// ran is acted on at start. The keeper itself is tested for real in test/keeper.
import { describe, expect, it } from "vitest";
import { Engine } from "../../daemon/engine/engine.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import type { Config, Policy } from "../../daemon/config/policy.js";
import { FakeChild, FakeClock, FakeProbe, FakeSource, FakeSpawner, KEEPER_PID_OFFSET, MemoryCooldownStore, RecordingSignaller, policy, sample, settle } from "../helpers/fakes.js";

function setup(policies: Policy[]) {
  const clock = new FakeClock();
  const source = new FakeSource(clock);
  const spawner = new FakeSpawner(source);
  spawner.withKeepers = true;
  const signaller = new RecordingSignaller();
  const config: Config = { settings: { intervalSec: 1 }, policies: new Map(policies.map((p) => [p.name, p])), email: null } as Config;
  const engine = new Engine({ clock, source, probe: new FakeProbe(source), spawner, signaller, cooldownStore: new MemoryCooldownStore({}), uid: 1000 }, config);
  const events: EngineEvent[] = [];
  engine.events.subscribe((e) => events.push(e));
  return { clock, source, spawner, signaller, engine, events };
}

// A program of policy `name` that a keeper holds from an earlier daemon run, running in the fake table.
function kept(t: ReturnType<typeof setup>, name: string, pid: number, running = true): FakeChild {
  const child = new FakeChild(pid, pid + KEEPER_PID_OFFSET, sample(pid).startTicks);
  if (running) t.source.set(sample(pid, { comm: name, uid: 1000, ppid: pid + KEEPER_PID_OFFSET }));
  t.spawner.recovered.push({ name, handle: child, running });
  return child;
}

describe("programs an earlier daemon started", () => {
  it("are selfheal's own again at start: managed, not adopted, and their crash is restarted", async () => {
    const t = setup([policy("web", { autostart: true })]);
    const child = kept(t, "web", 700);
    t.engine.start();
    await settle();
    expect(t.engine.get("web")).toMatchObject({ pid: 700, state: "running", managed: true });
    expect(t.events.map((e) => e.kind)).toEqual(["reattached"]);
    expect(t.spawner.children).toHaveLength(0);
    t.source.remove(700);
    child.exit(null, "SIGSEGV", { coreDumped: true, endedAtMs: t.clock.now(), whileAway: false });
    await settle();
    expect(t.events.find((e) => e.kind === "crashed")).toMatchObject({ pid: 700, signal: "SIGSEGV", statusKnown: true, willRestart: true });
    expect(t.events.find((e) => e.kind === "crashed")!.message).toContain("(core dumped)");
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ oldPid: 700, reason: "crash" });
  });

  it("an end recorded while no daemon ran is acted on at start: a crash is restarted, exit 0 is not (on-failure)", async () => {
    const t = setup([policy("crashy", { autostart: true }), policy("clean", { autostart: true })]);
    const crashy = kept(t, "crashy", 701, false);
    const clean = kept(t, "clean", 702, false);
    const endedAtMs = t.clock.now() - 60_000;
    // The keepers' records hold the ends: told as soon as the engine listens.
    const realOnExit = (child: FakeChild, code: number | null, signal: string | null) => {
      const onExit = child.onExit.bind(child);
      child.onExit = (listener) => {
        onExit(listener);
        listener(code, signal, { coreDumped: false, endedAtMs, whileAway: true });
      };
    };
    realOnExit(crashy, null, "SIGABRT");
    realOnExit(clean, 0, null);
    t.engine.start();
    await settle();
    const crashed = t.events.find((e) => e.kind === "crashed");
    expect(crashed).toMatchObject({ name: "crashy", pid: 701, signal: "SIGABRT", statusKnown: true, willRestart: true });
    expect(crashed!.message).toContain("before selfheal was started again");
    expect(t.events.find((e) => e.kind === "restarted")).toMatchObject({ name: "crashy", oldPid: 701 });
    expect(t.events.find((e) => e.kind === "exited")).toMatchObject({ name: "clean", pid: 702, exitCode: 0, willRestart: false });
    expect(t.events.filter((e) => e.kind === "reattached")).toEqual([]);
    // Autostart does not bring back what ended normally; a crash was restarted once.
    expect(t.spawner.children.map((c) => c.pid)).toHaveLength(1);
    expect(t.engine.get("clean")).toMatchObject({ pid: 0, state: "exited" });
  });

  it("a program whose keeper is gone is watched by PID, and the event says why its status is lost", async () => {
    const t = setup([policy("orphan", { autostart: true })]);
    const child = kept(t, "orphan", 703, false);
    t.source.set(sample(703, { comm: "orphan", uid: 1000, ppid: 1 }));
    const onLost = child.onLost.bind(child);
    child.onLost = (listener) => {
      onLost(listener);
      listener("its keeper (PID 10703) ended without recording the program's end");
    };
    t.engine.start();
    await settle();
    expect(t.engine.get("orphan")).toMatchObject({ pid: 703, managed: false, state: "running" });
    const adopted = t.events.find((e) => e.kind === "adopted");
    expect(adopted!.message).toContain("keeper");
    expect(t.spawner.children).toHaveLength(0);
  });

  it("a program whose policy is gone is let go; a second record for a policy already attached is released", async () => {
    const t = setup([policy("one")]);
    const first = kept(t, "one", 704);
    const second = kept(t, "one", 705);
    const stranger = kept(t, "gone", 706);
    t.engine.start();
    await settle();
    expect(t.engine.get("one")).toMatchObject({ pid: 704, managed: true });
    expect(first.released).toBe(false);
    expect(second.released).toBe(true);
    expect(stranger.released).toBe(false);
    expect(t.spawner.recovered).toEqual([expect.objectContaining({ name: "gone" })]);
  });

  it("a policy added back takes back the program its keeper still holds", async () => {
    const t = setup([policy("a")]);
    t.engine.start();
    await settle();
    kept(t, "b", 707);
    const config = { settings: { intervalSec: 1 }, policies: new Map([policy("a"), policy("b")].map((p) => [p.name, p])), email: null } as Config;
    t.engine.applyConfig(config);
    expect(t.engine.get("b")).toMatchObject({ pid: 707, managed: true });
    expect(t.events.find((e) => e.kind === "reattached")).toMatchObject({ name: "b", pid: 707, keeperPid: 707 + KEEPER_PID_OFFSET });
  });

  it("a scan that sees the program re-parented asks its keeper's record (the keeper is gone)", async () => {
    const t = setup([policy("app", { autostart: true })]);
    t.engine.start();
    await settle();
    const child = t.spawner.last;
    t.source.set({ ...t.source.processes.get(child.pid)!, ppid: child.pid + KEEPER_PID_OFFSET });
    t.engine.tick();
    expect(child.checks).toBe(0);
    t.source.set({ ...t.source.processes.get(child.pid)!, ppid: 1 });
    t.engine.tick();
    expect(child.checks).toBe(1);
    t.source.remove(child.pid);
    t.engine.tick();
    expect(child.checks).toBe(2);
    expect(t.engine.get("app")).toMatchObject({ pid: child.pid, managed: true });
  });
});

describe("a crash whose restart waits (the backoff)", () => {
  // Start `web`, then crash its program `crashes` times in a row; returns the handles of the programs started.
  async function crashInARow(t: ReturnType<typeof setup>, crashes: number): Promise<FakeChild[]> {
    t.engine.start();
    await settle();
    for (let i = 0; i < crashes; i++) {
      const child = t.spawner.children.at(-1)!;
      t.source.remove(child.pid);
      child.exit(null, "SIGSEGV");
      await settle();
    }
    return t.spawner.children;
  }

  it("keeps the ended program's handle (its keeper's record) until the restart is handed to the spawner", async () => {
    const t = setup([policy("web", { autostart: true })]);
    const [first, second] = await crashInARow(t, 2);
    // The first crash was restarted at once: its record was dropped as the new program's job went out.
    expect(first!.released).toBe(true);
    // The second waits 100 ms: a daemon killed now must still find the crash in the record.
    expect(t.engine.get("web").state).toBe("backoff");
    expect(second!.released).toBe(false);
    t.clock.advance(100);
    await settle();
    expect(t.spawner.children).toHaveLength(3);
    expect(second!.released).toBe(true);
  });

  it("a stop during the wait calls the restart off and drops the record", async () => {
    const t = setup([policy("web", { autostart: true })]);
    const [, second] = await crashInARow(t, 2);
    await t.engine.stopProcess("web");
    expect(second!.released).toBe(true);
    t.clock.advance(10_000);
    await settle();
    expect(t.spawner.children).toHaveLength(2);
  });

  it("a daemon shutting down during the wait leaves the record to the next daemon", async () => {
    const t = setup([policy("web", { autostart: true })]);
    const [, second] = await crashInARow(t, 2);
    t.engine.shutdown();
    t.clock.advance(10_000);
    await settle();
    expect(second!.released).toBe(false);
    expect(t.spawner.children).toHaveLength(2);
  });

  it("a policy removed during the wait lets the record go", async () => {
    const t = setup([policy("web", { autostart: true })]);
    const [, second] = await crashInARow(t, 2);
    t.engine.applyConfig({ settings: { intervalSec: 1 }, policies: new Map(), email: null } as unknown as Config);
    expect(second!.released).toBe(true);
  });
});
