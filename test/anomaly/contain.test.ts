// Containment on a simulated process table that keeps forking until stopped:
// every member is stopped before any is killed, reparented members are
// reached, nothing outside the tree is touched, and none survives.
import { describe, expect, it } from "vitest";
import { containTree, type ContainTarget } from "../../daemon/anomaly/contain.js";
import { collectMembers } from "../../daemon/anomaly/forkBomb.js";
import { World } from "./world.js";

/** A world where every scan lets the running forkers fork once more (they do not wait for us). */
function deps(world: World) {
  let clock = 0;
  return {
    signaller: world,
    rescan: () => {
      world.step(5);
      return world.scan();
    },
    sleep: async (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

function treeTarget(world: World, root: number): ContainTarget {
  const rootTicks = world.processes.get(root)!.startTicks;
  return {
    members: (snapshot, known) => {
      const members = collectMembers(snapshot, root, known);
      if (snapshot.processes.get(root)?.startTicks === rootTicks) members.set(root, rootTicks);
      return members;
    },
  };
}

// A bomb of depth levels under root (which leads its session), every member forking; one parent exits so its children are reparented.
function bomb(world: World): { root: number; members: number[]; orphaned: number } {
  world.add(500, { ppid: 1, sid: 500, pgid: 500, comm: "bomb" });
  const members = [500];
  for (let level = 0; level < 5; level++) for (const pid of [...members]) members.push(world.fork(pid));
  for (const pid of members) world.forkers.add(pid);
  const orphaned = members[1]!;
  world.exit(orphaned);
  return { root: 500, members: members.filter((pid) => pid !== orphaned), orphaned };
}

describe("containTree", () => {
  it("stops every member before killing any, and leaves none", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const bystander = world.add(300, { ppid: 1, sid: 300, pgid: 300, comm: "gedit" }).pid;
    const result = await containTree(treeTarget(world, root), deps(world));
    expect(result.survivors).toBe(0);
    expect(result.reached).toBeGreaterThanOrEqual(members.length);
    for (const pid of members) expect(world.alive(pid)).toBe(false);
    expect([...world.processes.keys()].sort((a, b) => a - b)).toEqual([1, bystander]);
    const firstKill = world.signals.findIndex(([, signal]) => signal === "SIGKILL");
    const stopped = new Set(world.signals.slice(0, firstKill).filter(([, s]) => s === "SIGSTOP").map(([pid]) => pid));
    for (const pid of members) expect(stopped.has(pid)).toBe(true);
    expect(world.signals.some(([pid]) => pid === bystander || pid === 1)).toBe(false);
  });

  it("stops what members fork while the stop takes effect, before killing anything", async () => {
    const world = new World();
    const { root, members, orphaned } = bomb(world);
    world.lagStops = new Set(members);
    const result = await containTree(treeTarget(world, root), deps(world));
    expect(result.survivors).toBe(0);
    const firstKill = world.signals.findIndex(([, signal]) => signal === "SIGKILL");
    const stopped = new Set(world.signals.slice(0, firstKill).filter(([, s]) => s === "SIGSTOP").map(([pid]) => pid));
    // Every member forked one last child after its SIGSTOP: those were found and stopped before any kill.
    expect(world.forked.filter((pid) => !stopped.has(pid) && pid !== orphaned)).toEqual([]);
    expect(world.forked.filter((pid) => world.alive(pid))).toEqual([]);
  });

  it("reaches members reparented away that only the history knows (root not a session leader)", async () => {
    const world = new World();
    world.add(400, { ppid: 1, sid: 400, pgid: 400, comm: "bash" });
    world.add(500, { ppid: 400, sid: 400, pgid: 400, comm: "app" });
    const child = world.fork(500);
    const grandchild = world.fork(child);
    const known = collectMembers(world.scan(), 500);
    world.exit(child);
    world.forkers.add(grandchild);
    const result = await containTree(treeTarget(world, 500), deps(world), known);
    expect(result.survivors).toBe(0);
    expect(world.alive(grandchild)).toBe(false);
    expect(world.alive(400)).toBe(true);
  });

  it("calls onStopped once every member is stopped, before the kill", async () => {
    const world = new World();
    const { root } = bomb(world);
    let killsBefore = -1;
    const target = { ...treeTarget(world, root), onStopped: () => (killsBefore = world.signals.filter(([, s]) => s === "SIGKILL").length) };
    await containTree(target, deps(world));
    expect(killsBefore).toBe(0);
  });

  it("names every process it signals by its start time, and leaves a PID reused meanwhile alone", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const ticks = new Map([...world.processes].map(([pid, process]) => [pid, process.startTicks]));
    // A member found by an earlier look has ended, and an unrelated program now holds its PID.
    const known = collectMembers(world.scan(), root);
    const reused = members[2]!;
    world.exit(reused);
    world.add(reused, { ppid: 1, sid: 300, pgid: 300, comm: "gedit" });
    const result = await containTree(treeTarget(world, root), deps(world), known);
    expect(result.survivors).toBe(0);
    expect(world.alive(reused)).toBe(true);
    expect(world.signals.some(([pid]) => pid === reused)).toBe(false);
    world.signals.forEach(([pid], i) => {
      expect(world.namedBy[i]).toBeDefined();
      if (ticks.has(pid)) expect(world.namedBy[i]).toBe(ticks.get(pid));
    });
  });

  it("starts from the snapshot the bomb was found in: every member found there is stopped before the first rescan", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const found = world.scan();
    let stopsBeforeRescan = -1;
    const counting = { ...deps(world), rescan: () => {
      if (stopsBeforeRescan < 0) stopsBeforeRescan = world.signals.filter(([, s]) => s === "SIGSTOP").length;
      world.step(5);
      return world.scan();
    } };
    const result = await containTree(treeTarget(world, root), counting, collectMembers(found, root), found);
    expect(result.survivors).toBe(0);
    expect(stopsBeforeRescan).toBe(members.length);
  });

  it("counts members the signaller refuses as survivors", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    world.refuse.add(members[3]!);
    world.forkers.delete(members[3]!);
    const result = await containTree(treeTarget(world, root), deps(world));
    expect(result.refused).toBe(1);
    expect(result.survivors).toBe(1);
    expect(world.alive(members[3]!)).toBe(true);
  });
});
