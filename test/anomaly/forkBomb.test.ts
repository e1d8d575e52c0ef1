// Fork-bomb detection on synthetic process tables: who belongs to a tree
// (reparented members included), and when a tree crosses its thresholds.
import { describe, expect, it } from "vitest";
import type { ForkBombSettings } from "../../daemon/config/policy.js";
import { collectMembers, countNew, ForkBombDetector, judgeTree, MIN_NEW_FOR_RATE, youngBySession } from "../../daemon/anomaly/forkBomb.js";
import { DEFAULT_ANOMALY_SETTINGS } from "../../daemon/anomaly/settings.js";
import { World } from "./world.js";

const DEFAULTS: ForkBombSettings = DEFAULT_ANOMALY_SETTINGS.forkBomb;

describe("members of a tree", () => {
  it("are the root's descendants, the root itself left out", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 400, pgid: 400 });
    const child = world.fork(500);
    const grandchild = world.fork(child);
    world.add(600, { ppid: 1, sid: 400, pgid: 400 });
    expect([...collectMembers(world.scan(), 500).keys()].sort()).toEqual([child, grandchild].sort());
  });

  it("keep a child reparented to init, through the scan history", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 400, pgid: 400 });
    const child = world.fork(500);
    const grandchild = world.fork(child);
    const known = collectMembers(world.scan(), 500);
    world.exit(child);
    const orphanChild = world.fork(grandchild);
    const members = collectMembers(world.scan(), 500, known);
    expect(members.has(grandchild)).toBe(true);
    expect(members.has(orphanChild)).toBe(true);
    // Without the history, the orphan is lost (the root does not lead its session here).
    expect(collectMembers(world.scan(), 500).has(grandchild)).toBe(false);
  });

  it("keep an orphan the history never saw when the root leads its own session", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500 });
    const child = world.fork(500);
    const grandchild = world.fork(child);
    world.exit(child);
    const members = collectMembers(world.scan(), 500);
    expect(members.has(grandchild)).toBe(true);
  });

  it("do not take in a session or group the root does not lead", () => {
    const world = new World();
    world.add(400, { ppid: 1, sid: 400, pgid: 400, comm: "bash" });
    world.add(500, { ppid: 400, sid: 400, pgid: 400 });
    world.add(700, { ppid: 400, sid: 400, pgid: 400, comm: "vim" });
    expect(collectMembers(world.scan(), 500).has(700)).toBe(false);
  });

  it("leave out zombies and a remembered pid now used by another process", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500 });
    const zombie = world.fork(500, { state: "Z" });
    const known = new Map([[900, 12345]]);
    world.add(900, { ppid: 1, sid: 1, pgid: 1, startTicks: 99 });
    const members = collectMembers(world.scan(), 500, known);
    expect(members.has(zombie)).toBe(false);
    expect(members.has(900)).toBe(false);
  });

  it("leave out processes that started before the root, even in the session it leads", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500, startTicks: 5000 });
    world.add(450, { ppid: 1, sid: 500, pgid: 500, startTicks: 4000 });
    const child = world.fork(500);
    expect([...collectMembers(world.scan(), 500).keys()]).toEqual([child]);
  });

  it("leave out what the guard protects, and do not count it", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500 });
    const bus = world.fork(500, { comm: "dbus-daemon" });
    const child = world.fork(500);
    const members = collectMembers(world.scan(), 500, new Map(), (sample) => (sample.comm === "dbus-daemon" ? "protected" : null));
    expect([...members.keys()]).toEqual([child]);
    expect(members.has(bus)).toBe(false);
  });

  it("do not walk below a protected process: a shell's programs are the shell's", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500, comm: "terminal" });
    const shell = world.fork(500, { comm: "bash", sid: 9000, pgid: 9000 });
    const program = world.fork(shell, { comm: "editor" });
    const own = world.fork(500);
    const members = collectMembers(world.scan(), 500, new Map(), (sample) => (sample.pid === shell ? "it is bash, which leads a terminal session (a login or terminal shell)" : null));
    expect([...members.keys()]).toEqual([own]);
    expect(members.has(program)).toBe(false);
  });

  it("counts new members by pid and start time", () => {
    expect(countNew(new Map([[1, 10], [2, 20], [3, 30]]), new Map([[1, 10], [2, 99]]))).toBe(2);
  });
});

describe("thresholds", () => {
  it("trip on max_descendants (the original's 50 children)", () => {
    expect(judgeTree(49, 0, 1000, DEFAULTS)).toBeNull();
    expect(judgeTree(50, 0, 1000, DEFAULTS)).toMatchObject({ reason: "descendants", descendants: 50 });
  });

  it("trip on the spawn rate, judged on at least MIN_NEW_FOR_RATE new members", () => {
    expect(judgeTree(30, 30, 200, DEFAULTS)).toMatchObject({ reason: "spawn-rate", spawnRate: 150 });
    expect(judgeTree(30, MIN_NEW_FOR_RATE - 1, 10, DEFAULTS)).toBeNull();
    expect(judgeTree(30, 30, 200, { ...DEFAULTS, maxSpawnRate: 0 })).toBeNull();
    expect(judgeTree(30, 30, null, DEFAULTS)).toBeNull();
  });
});

describe("ForkBombDetector", () => {
  it("tells a growing tree once, when it crosses the threshold", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500 });
    world.forkers.add(500);
    const detector = new ForkBombDetector();
    const verdicts: number[] = [];
    for (let scan = 0; scan < 10; scan++) {
      const { verdict, members } = detector.observe("app", world.scan(), 500, { ...DEFAULTS, maxSpawnRate: 0 });
      if (verdict) verdicts.push(members.size);
      world.step();
    }
    // The tree doubles every scan: 63 descendants is the first count at or over 50.
    expect(verdicts).toEqual([63]);
  });

  it("leaves a steady program with a few children alone", () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500 });
    for (let i = 0; i < 20; i++) world.fork(500);
    const detector = new ForkBombDetector();
    for (let scan = 0; scan < 30; scan++) {
      expect(detector.observe("app", world.scan(), 500, DEFAULTS).verdict).toBeNull();
      world.step();
    }
  });
});

describe("the global watch's candidates", () => {
  it("are the young processes of each session, of this user, not excluded", () => {
    const world = new World();
    world.add(400, { ppid: 1, sid: 400, pgid: 400, comm: "bash", startTimeMs: world.time - 3_600_000 });
    const young = world.fork(400);
    world.add(800, { ppid: 1, sid: 800, uid: 65534 });
    world.add(801, { ppid: 1, sid: 400 });
    const sessions = youngBySession(world.scan(), 1000, new Set([801]));
    expect([...(sessions.get(400)?.keys() ?? [])]).toEqual([young]);
    expect(sessions.has(800)).toBe(false);
  });
});
