// Containment on a simulated process table that keeps forking until stopped:
// every member is stopped before any is killed, reparented members are
// reached, nothing outside the tree is touched, and none survives. Each case
// runs twice: with members signalled one by one, and with the root's whole
// group signalled at once where the root leads its session (the guard's
// killGroup); then the cases of the group signal itself.
import type { Signaller } from "../../daemon/engine/engine.js";
import { describe, expect, it } from "vitest";
import { containTree, holdGroup, releaseGroup, type ContainTarget } from "../../daemon/anomaly/contain.js";
import { collectMembers } from "../../daemon/anomaly/forkBomb.js";
import { World } from "./world.js";

/** A world where every scan lets the running forkers fork once more (they do not wait for us). */
function deps(world: World, byGroup = true) {
  let clock = 0;
  // Without killGroup, the containment has only the one-by-one path.
  const signaller: Signaller = byGroup ? world : { kill: (pid, signal, startTicks) => world.kill(pid, signal, startTicks) };
  return {
    signaller,
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

// The tree under root; members the world refuses are not members (as the guard's protects rule).
function treeTarget(world: World, root: number): ContainTarget {
  const rootTicks = world.processes.get(root)!.startTicks;
  return {
    root: { pid: root, startTicks: rootTicks },
    members: (snapshot, known) => {
      const members = collectMembers(snapshot, root, known, (sample) => (world.refuse.has(sample.pid) ? "protected" : null), rootTicks);
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

// The pids that got SIGSTOP (alone or with their group) before the first SIGKILL reached anyone.
function stoppedBeforeKill(world: World): Set<number> {
  const firstKill = world.delivered.findIndex(([, signal]) => signal === "SIGKILL");
  return new Set(world.delivered.slice(0, firstKill).filter(([, s]) => s === "SIGSTOP").map(([pid]) => pid));
}

describe.each([
  ["one by one", false],
  ["with the root's group at once", true],
])("containTree, members signalled %s", (_how, byGroup) => {
  it("stops every member before killing any, and leaves none", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const bystander = world.add(300, { ppid: 1, sid: 300, pgid: 300, comm: "gedit" }).pid;
    const result = await containTree(treeTarget(world, root), deps(world, byGroup));
    expect(result.survivors).toBe(0);
    expect(result.reached).toBeGreaterThanOrEqual(members.length);
    for (const pid of members) expect(world.alive(pid)).toBe(false);
    expect([...world.processes.keys()].sort((a, b) => a - b)).toEqual([1, bystander]);
    const stopped = stoppedBeforeKill(world);
    for (const pid of members) expect(stopped.has(pid)).toBe(true);
    expect(world.delivered.some(([pid]) => pid === bystander || pid === 1)).toBe(false);
    expect(world.groupSignals.length > 0).toBe(byGroup);
  });

  it("stops what members fork while the stop takes effect, before killing anything", async () => {
    const world = new World();
    const { root, members, orphaned } = bomb(world);
    world.lagStops = new Set(members);
    const result = await containTree(treeTarget(world, root), deps(world, byGroup));
    expect(result.survivors).toBe(0);
    const stopped = stoppedBeforeKill(world);
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
    const result = await containTree(treeTarget(world, 500), deps(world, byGroup), { known });
    expect(result.survivors).toBe(0);
    expect(world.alive(grandchild)).toBe(false);
    expect(world.alive(400)).toBe(true);
    // The root leads neither session nor group: its shell's group is never signalled at once.
    expect(world.groupSignals).toEqual([]);
  });

  it("calls onStopped once every member is stopped, in the same turn as the kill, before any further look", async () => {
    const world = new World();
    const { root } = bomb(world);
    /** How many signals had been delivered when the table was last looked at. */
    let deliveredAtLastLook = 0;
    const looking = {
      ...deps(world, byGroup),
      rescan: () => {
        deliveredAtLastLook = world.delivered.length;
        world.step(5);
        return world.scan();
      },
    };
    let atStopped: { rootKilled: boolean; killedBeforeLastLook: boolean } | undefined;
    const target: ContainTarget = {
      ...treeTarget(world, root),
      onStopped: () => {
        atStopped = {
          rootKilled: world.delivered.some(([pid, s]) => pid === root && s === "SIGKILL"),
          killedBeforeLastLook: world.delivered.slice(0, deliveredAtLastLook).some(([, s]) => s === "SIGKILL"),
        };
      },
    };
    const result = await containTree(target, looking);
    expect(result.survivors).toBe(0);
    expect(atStopped).toEqual({ rootKilled: true, killedBeforeLastLook: false });
    expect(stoppedBeforeKill(world).has(root)).toBe(true);
  });

  it("names every process it signals alone by its start time, and leaves a PID reused meanwhile alone", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const ticks = new Map([...world.processes].map(([pid, process]) => [pid, process.startTicks]));
    // A member found by an earlier look has ended, and an unrelated program now holds its PID.
    const known = collectMembers(world.scan(), root);
    const reused = members[2]!;
    world.exit(reused);
    world.add(reused, { ppid: 1, sid: 300, pgid: 300, comm: "gedit" });
    const result = await containTree(treeTarget(world, root), deps(world, byGroup), { known });
    expect(result.survivors).toBe(0);
    expect(world.alive(reused)).toBe(true);
    expect(world.delivered.some(([pid]) => pid === reused)).toBe(false);
    world.signals.forEach(([pid], i) => {
      expect(world.namedBy[i]).toBeDefined();
      if (ticks.has(pid)) expect(world.namedBy[i]).toBe(ticks.get(pid));
    });
  });

  it("starts from the snapshot the bomb was found in: every member found there is stopped before the first rescan", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const found = world.scan();
    let stoppedBeforeRescan: Set<number> | undefined;
    const counting = {
      ...deps(world, byGroup),
      rescan: () => {
        stoppedBeforeRescan ??= new Set(world.delivered.filter(([, s]) => s === "SIGSTOP").map(([pid]) => pid));
        world.step(5);
        return world.scan();
      },
    };
    const result = await containTree(treeTarget(world, root), counting, { known: collectMembers(found, root), snapshot: found });
    expect(result.survivors).toBe(0);
    for (const pid of members) expect(stoppedBeforeRescan?.has(pid)).toBe(true);
  });

  it("never signals a protected process of the root's session, and counts a refused member as a survivor", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const guarded = members[3]!;
    world.refuse.add(guarded);
    world.forkers.delete(guarded);
    const result = await containTree(treeTarget(world, root), deps(world, byGroup));
    expect(result.survivors).toBe(0);
    expect(world.alive(guarded)).toBe(true);
    expect(world.processes.get(guarded)?.state).toBe("S");
    expect(world.delivered.some(([pid]) => pid === guarded)).toBe(false);
    // A process of the session the guard protects: the group is never signalled at once.
    expect(world.groupSignals).toEqual([]);
  });

  it("counts a member the signaller refuses at the signal as a survivor", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const rootTicks = world.processes.get(root)!.startTicks;
    // Judged a member in the scans, refused when signalled (as the guard refuses what changed since).
    const target: ContainTarget = { root: { pid: root, startTicks: rootTicks }, members: (snapshot, known) => collectMembers(snapshot, root, known).set(root, rootTicks) };
    const refusedLate = members[3]!;
    world.forkers.delete(refusedLate);
    world.refuse.add(refusedLate);
    const result = await containTree(target, deps(world, byGroup));
    expect(result.refused).toBe(1);
    expect(result.survivors).toBe(1);
    expect(world.alive(refusedLate)).toBe(true);
  });
});

describe("containTree, the root's group signalled at once", () => {
  it("signals members that left the group (setpgid) one by one, the rest with the group", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const leaver = members[4]!;
    world.processes.set(leaver, { ...world.processes.get(leaver)!, pgid: leaver });
    const result = await containTree(treeTarget(world, root), deps(world));
    expect(result.survivors).toBe(0);
    expect(world.groupSignals).toContainEqual([root, "SIGSTOP"]);
    expect(world.groupSignals).toContainEqual([root, "SIGKILL"]);
    expect(world.signals).toContainEqual([leaver, "SIGSTOP"]);
    expect(world.signals).toContainEqual([leaver, "SIGKILL"]);
    // Members of the group got no signal of their own on the first stop and the kill.
    expect(world.signals.filter(([pid]) => pid === members[5]!)).toEqual([]);
  });

  it("does not wait for the group's members to show stopped: one look at once for members outside it, then the kill", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    // Every member is caught mid-fork: its stop takes effect only after one last child.
    world.lagStops = new Set(members);
    let sleepsBeforeKill = 0;
    const counting = {
      ...deps(world),
      sleep: async () => {
        if (!world.delivered.some(([, s]) => s === "SIGKILL")) sleepsBeforeKill++;
      },
    };
    const result = await containTree(treeTarget(world, root), counting);
    expect(result.survivors).toBe(0);
    expect(sleepsBeforeKill).toBe(0);
    expect(world.forked.filter((pid) => world.alive(pid))).toEqual([]);
  });

  // The group stopped on a quick look (a peek) before the full look that confirms the bomb: that look is the
  // one after the stop, so the kill follows it at once, as it follows the look after a stop sent from it.
  it("when the group was held before the snapshot it starts from, kills right after that snapshot: no other look before the kill", async () => {
    const world = new World();
    const { root } = bomb(world);
    const target = treeTarget(world, root);
    // Every member is caught mid-fork: its stop takes effect only after one last child (made while the look reads the table).
    world.lagStops = new Set(world.forkers);
    // The hold, as the guard's group signal; then the confirming look.
    world.killGroup(world.scan(), root, target.root!.startTicks, "SIGSTOP");
    const base = deps(world);
    const snapshot = base.rescan();
    let looksBeforeKill = 0;
    const counting = {
      ...base,
      rescan: () => {
        if (!world.delivered.some(([, s]) => s === "SIGKILL")) looksBeforeKill++;
        return base.rescan();
      },
    };
    const result = await containTree(target, counting, { snapshot, groupHeld: true });
    expect(result.survivors).toBe(0);
    expect(looksBeforeKill).toBe(0);
    expect(world.forked.filter((pid) => world.alive(pid))).toEqual([]);
  });

  it("when the group was held, still stops and looks again at members outside it before the kill", async () => {
    const world = new World();
    const { root, members } = bomb(world);
    const leaver = members[4]!;
    world.processes.set(leaver, { ...world.processes.get(leaver)!, pgid: leaver });
    const target = treeTarget(world, root);
    world.killGroup(world.scan(), root, target.root!.startTicks, "SIGSTOP");
    const result = await containTree(target, deps(world), { snapshot: world.scan(), groupHeld: true });
    expect(result.survivors).toBe(0);
    expect(stoppedBeforeKill(world).has(leaver)).toBe(true);
    expect(world.forked.filter((pid) => world.alive(pid))).toEqual([]);
  });

  it("holdGroup stops the group at once when the root leads its session and every process of it is a member; releaseGroup lets go of what it stopped", async () => {
    const world = new World();
    const { root } = bomb(world);
    const target = treeTarget(world, root);
    const earlier = world.fork(root);
    world.processes.set(earlier, { ...world.processes.get(earlier)!, state: "T" });
    const outsider = world.add(900, { ppid: 1, sid: 900, pgid: 900, comm: "other" }).pid;
    const glance = world.scan();
    const held = holdGroup(world, glance, target.root!, target.members(glance, new Map()));
    expect(held).not.toBeNull();
    expect(world.groupSignals).toEqual([[root, "SIGSTOP"]]);
    const inGroup = () => [...world.processes.values()].filter((p) => p.pgid === root);
    expect(inGroup().every((p) => p.state === "T")).toBe(true);
    releaseGroup(world, world.scan(), held!);
    // Each let go alone (named by its start time), except the one stopped before the hold; nothing outside the group.
    expect(inGroup().filter((p) => p.state === "T").map((p) => p.pid)).toEqual([earlier]);
    expect(world.signals.every(([pid, signal]) => signal === "SIGCONT" && pid !== earlier && pid !== outsider)).toBe(true);
    expect(world.namedBy.every((ticks) => ticks !== undefined)).toBe(true);
  });

  it("holdGroup holds nothing when the session has a protected process or one that is not a member", () => {
    for (const spoil of ["protected", "older"] as const) {
      const world = new World();
      const { root } = bomb(world);
      const target = treeTarget(world, root);
      if (spoil === "protected") world.refuse.add(world.fork(root));
      else world.add(60, { ppid: 1, sid: root, pgid: root, comm: "older", startTicks: 1 });
      const glance = world.scan();
      expect(holdGroup(world, glance, target.root!, target.members(glance, new Map()))).toBeNull();
      expect(world.delivered).toEqual([]);
    }
  });

  it("is not used when a process of the root's session started before the root", async () => {
    const world = new World();
    world.add(500, { ppid: 1, sid: 500, pgid: 500, comm: "bomb" });
    // Older than the root, in its session: not a member, so the group is not signalled at once.
    world.add(60, { ppid: 1, sid: 500, pgid: 500, comm: "older", startTicks: 1 });
    const child = world.fork(500);
    world.forkers.add(child);
    const result = await containTree(treeTarget(world, 500), deps(world));
    expect(result.survivors).toBe(0);
    expect(world.groupSignals).toEqual([]);
    expect(world.alive(60)).toBe(true);
    expect(world.delivered.some(([pid]) => pid === 60)).toBe(false);
  });
});
