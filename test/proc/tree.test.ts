// Tree helpers over synthetic snapshots and over a real parent with children.

import { afterEach, describe, expect, it } from "vitest";
import { ProcScanner } from "../../daemon/proc/scan.js";
import { descendantsOf, treeTotals } from "../../daemon/proc/tree.js";
import { Children, sample, scanUntil, snapshotOf } from "./helpers.js";

const children = new Children();
afterEach(() => children.killAll());

describe("descendantsOf", () => {
  it("lists children and grandchildren, not the process itself nor its siblings", () => {
    const snapshot = snapshotOf([
      sample({ pid: 10, ppid: 1 }),
      sample({ pid: 11, ppid: 10 }),
      sample({ pid: 12, ppid: 10 }),
      sample({ pid: 13, ppid: 11 }),
      sample({ pid: 14, ppid: 13 }),
      sample({ pid: 20, ppid: 1 }),
    ]);
    expect(descendantsOf(snapshot, 10)).toEqual([11, 12, 13, 14]);
    expect(descendantsOf(snapshot, 13)).toEqual([14]);
    expect(descendantsOf(snapshot, 20)).toEqual([]);
    expect(descendantsOf(snapshot, 999)).toEqual([]);
  });

  it("ends on a cycle, as a snapshot torn by pid reuse could hold", () => {
    const snapshot = snapshotOf([sample({ pid: 30, ppid: 31 }), sample({ pid: 31, ppid: 30 }), sample({ pid: 32, ppid: 31 })]);
    expect(descendantsOf(snapshot, 30).sort()).toEqual([31, 32]);
  });

  it("walks a deep chain without recursion", () => {
    const depth = 100_000;
    const chain = Array.from({ length: depth }, (_, i) => sample({ pid: i + 2, ppid: i + 1 }));
    expect(descendantsOf(snapshotOf(chain), 1)).toHaveLength(depth);
  });
});

describe("treeTotals", () => {
  it("sums CPU, memory and count over the process and its descendants", () => {
    const snapshot = snapshotOf([
      sample({ pid: 10, ppid: 1, cpuPercent: 10, rssBytes: 1000 }),
      sample({ pid: 11, ppid: 10, cpuPercent: 20.5, rssBytes: 2000 }),
      sample({ pid: 12, ppid: 11, cpuPercent: 5, rssBytes: 3000, state: "Z" }),
      sample({ pid: 13, ppid: 1, cpuPercent: 99, rssBytes: 9999 }),
    ]);
    expect(treeTotals(snapshot, 10)).toEqual({ cpuPercent: 35.5, rssBytes: 6000, count: 3 });
    expect(treeTotals(snapshot, 12)).toEqual({ cpuPercent: 5, rssBytes: 3000, count: 1 });
    expect(treeTotals(snapshot, 999)).toEqual({ cpuPercent: 0, rssBytes: 0, count: 0 });
  });

  it("counts a real shell and its two sleeping children", async () => {
    const shell = children.spawn("sh", ["-c", "sleep 30 & sleep 30 & wait"]);
    const scanner = new ProcScanner();
    const { snapshot } = await scanUntil(scanner, shell.pid, (_, snap) =>
      snap.childrenOf(shell.pid).filter((pid) => snap.processes.get(pid)?.comm === "sleep").length === 2,
    );
    const kids = descendantsOf(snapshot, shell.pid);
    expect(kids).toHaveLength(2);
    const members = [shell.pid, ...kids].map((pid) => snapshot.processes.get(pid)!);
    const totals = treeTotals(snapshot, shell.pid);
    expect(totals.count).toBe(3);
    expect(totals.rssBytes).toBe(members.reduce((sum, s) => sum + s.rssBytes, 0));
    expect(totals.rssBytes).toBeGreaterThan(0);
    expect(descendantsOf(snapshot, process.pid)).toEqual(expect.arrayContaining([shell.pid, ...kids]));
  });
});
