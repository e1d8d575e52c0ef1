// Zombie cleanup on a simulated process table: SIGCHLD first, parents ended
// only when allowed and not protected, the other user's parent never touched,
// and the outcome counted.
import { describe, expect, it } from "vitest";
import type { Signaller } from "../../daemon/engine/engine.js";
import type { ProcessSample, ProcessSnapshot } from "../../daemon/proc/types.js";
import { cleanupZombies, type CleanupOptions } from "../../daemon/zombies/cleanup.js";
import { ProtectedError } from "../../daemon/safety/guard.js";
import { sample } from "../helpers/fakes.js";

/** A process table where parents may reap on SIGCHLD, die on SIGTERM (unless stubborn), and PID 1 reaps orphans. */
class Table implements Signaller {
  processes = new Map<number, ProcessSample>();
  reapsOnSigchld = new Set<number>();
  ignoresTerm = new Set<number>();
  /** pid → why the guard refuses it. */
  refuse = new Map<number, string>();
  signals: Array<[number, string]> = [];
  time = 1_700_000_000_000;

  constructor() {
    this.processes.set(1, sample(1, { ppid: 0, comm: "systemd", uid: 0 }));
  }

  parent(pid: number, comm: string, uid = 1000): this {
    this.processes.set(pid, sample(pid, { comm, uid }));
    return this;
  }

  zombie(pid: number, ppid: number, uid = 1000): this {
    this.processes.set(pid, sample(pid, { ppid, state: "Z", comm: "child", uid }));
    return this;
  }

  kill(pid: number, signal: NodeJS.Signals): void {
    const reason = this.refuse.get(pid);
    if (reason !== undefined) throw new ProtectedError(pid, reason);
    this.signals.push([pid, signal]);
    if (signal === "SIGCHLD" && this.reapsOnSigchld.has(pid)) this.reapChildrenOf(pid);
    if ((signal === "SIGTERM" && !this.ignoresTerm.has(pid)) || signal === "SIGKILL") {
      this.processes.delete(pid);
      // Orphans go to PID 1, which reaps the zombies among them.
      for (const child of [...this.processes.values()]) {
        if (child.ppid !== pid) continue;
        if (child.state === "Z") this.processes.delete(child.pid);
        else this.processes.set(child.pid, { ...child, ppid: 1 });
      }
    }
  }

  scan(): ProcessSnapshot {
    const processes = new Map(this.processes);
    return { timeMs: this.time, processes, childrenOf: (pid) => [...processes.values()].filter((p) => p.ppid === pid).map((p) => p.pid) };
  }

  private reapChildrenOf(pid: number): void {
    for (const child of [...this.processes.values()]) if (child.ppid === pid && child.state === "Z") this.processes.delete(child.pid);
  }
}

function run(table: Table, options: Partial<CleanupOptions> = {}, endWatched?: (pid: number) => boolean) {
  let slept = 0;
  const report = cleanupZombies(
    {
      signaller: table,
      rescan: () => table.scan(),
      sleep: async (ms) => {
        slept += ms;
        table.time += ms;
      },
      endWatched,
    },
    { killParents: true, protectedNames: [], reapWaitMs: 1000, ...options },
  );
  return report.then((result) => ({ ...result, slept }));
}

describe("cleanupZombies", () => {
  it("asks each parent once with SIGCHLD; a parent that reaps is not ended", async () => {
    const table = new Table().parent(100, "lazy").zombie(101, 100).zombie(102, 100);
    table.reapsOnSigchld.add(100);
    const report = await run(table);
    expect(report).toMatchObject({ reaped: 2, remaining: 0, asked: 1, ended: [] });
    expect(table.signals).toEqual([[100, "SIGCHLD"]]);
    expect(table.processes.has(100)).toBe(true);
  });

  it("ends a parent that does not reap when kill_parents allows it, and its zombies go", async () => {
    const table = new Table().parent(100, "leaky").zombie(101, 100).zombie(102, 100).zombie(103, 100);
    const report = await run(table);
    expect(report).toMatchObject({ reaped: 3, remaining: 0, asked: 1, ended: [{ pid: 100, name: "leaky" }] });
    expect(table.signals).toEqual([
      [100, "SIGCHLD"],
      [100, "SIGTERM"],
    ]);
  });

  it("only asks when kill_parents is off, and reports what remains", async () => {
    const table = new Table().parent(100, "leaky").zombie(101, 100);
    const report = await run(table, { killParents: false });
    expect(report).toMatchObject({ reaped: 0, remaining: 1, ended: [] });
    expect(table.signals).toEqual([[100, "SIGCHLD"]]);
    expect(report.slept).toBeGreaterThanOrEqual(1000);
  });

  it("never ends a parent of another user, a protected one, or one named in [zombies] protected", async () => {
    const table = new Table()
      .parent(100, "leaky")
      .zombie(101, 100)
      .parent(200, "theirs", 65534)
      .zombie(201, 200, 65534)
      .parent(300, "gnome-shell")
      .zombie(301, 300)
      .parent(400, "emacs")
      .zombie(401, 400);
    table.refuse.set(200, "it belongs to another user (uid 65534)");
    table.refuse.set(300, "it is gnome-shell, part of the desktop session");
    const report = await run(table, { protectedNames: ["emacs"] });
    expect(report).toMatchObject({ reaped: 1, remaining: 3, ended: [{ pid: 100, name: "leaky" }] });
    expect(report.spared.map((parent) => [parent.pid, parent.reason])).toEqual([
      [200, "it belongs to another user (uid 65534)"],
      [300, "it is gnome-shell, part of the desktop session"],
      [400, "emacs is in [zombies] protected"],
    ]);
    expect(table.signals.filter(([pid]) => pid === 200 || pid === 300)).toEqual([]);
    expect(table.signals.filter(([pid]) => pid === 400)).toEqual([[400, "SIGCHLD"]]);
    expect(table.processes.has(200) && table.processes.has(300) && table.processes.has(400)).toBe(true);
  });

  it("sends SIGKILL to a parent that ignores SIGTERM", async () => {
    const table = new Table().parent(100, "stubborn").zombie(101, 100);
    table.ignoresTerm.add(100);
    const report = await run(table);
    expect(report).toMatchObject({ reaped: 1, remaining: 0 });
    expect(table.signals.map(([, signal]) => signal)).toEqual(["SIGCHLD", "SIGTERM", "SIGKILL"]);
  });

  it("hands a watched parent to the engine instead of signalling it", async () => {
    const table = new Table().parent(100, "app").zombie(101, 100);
    const handed: number[] = [];
    const report = await run(table, {}, (pid) => {
      handed.push(pid);
      return true;
    });
    expect(handed).toEqual([100]);
    expect(report.ended).toEqual([{ pid: 100, name: "app" }]);
    expect(table.signals).toEqual([[100, "SIGCHLD"]]);
  });

  it("works only on the zombies `select` picks, but counts every zombie left", async () => {
    const table = new Table().parent(100, "old").zombie(101, 100).parent(200, "young").zombie(201, 200);
    const report = await run(table, { select: (zombie) => zombie.ppid === 100 });
    expect(report).toMatchObject({ reaped: 1, remaining: 1 });
    expect(table.signals.some(([pid]) => pid === 200)).toBe(false);
  });
});
