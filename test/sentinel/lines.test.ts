// The sentinel's line protocol, daemon side: what is written for a change of
// what to watch (only the change), and which reports are read.
import { describe, expect, it } from "vitest";
import type { LookoutWatch } from "../../daemon/engine/ports.js";
import { linesFor, nothingTold, parseReport } from "../../daemon/sentinel/lines.js";

const MIB = 1024 * 1024;
const base: LookoutWatch = {
  forksPerSurge: 10,
  memoryDropBytes: 20 * MIB,
  ends: [{ pid: 42, startTicks: 1000 }],
  memory: [{ pid: 7, pids: [7, 8, 9], limitBytes: 200 * MIB, near: false }],
};

describe("the lines written to the sentinel", () => {
  it("say everything the first time, and nothing when nothing changed", () => {
    const told = nothingTold();
    expect(linesFor(told, base)).toEqual(["forks 10", `drop ${20 * MIB}`, "watch 42 1000", `memory 7 ${200 * MIB} far 7 8 9`]);
    expect(linesFor(told, base)).toEqual([]);
  });

  it("say only what changed: a group near its limit, an end no longer watched, a new one, a limit gone", () => {
    const told = nothingTold();
    linesFor(told, base);
    const next: LookoutWatch = { ...base, memoryDropBytes: 0, ends: [{ pid: 43, startTicks: 5 }], memory: [{ ...base.memory[0]!, near: true, pids: [7, 8] }] };
    expect(linesFor(told, next)).toEqual(["drop 0", "unwatch 42", "watch 43 5", `memory 7 ${200 * MIB} near 7 8`]);
    expect(linesFor(told, { ...next, memory: [] })).toEqual(["forget 7"]);
  });

  it("watch a PID again when its start time changed (another process has it now)", () => {
    const told = nothingTold();
    linesFor(told, base);
    expect(linesFor(told, { ...base, ends: [{ pid: 42, startTicks: 2000 }] })).toEqual(["watch 42 2000"]);
  });

  it("tell the last of a PID given twice, and nothing again once told", () => {
    const told = nothingTold();
    linesFor(told, base);
    const twice: LookoutWatch = { ...base, ends: [{ pid: 42, startTicks: 1000 }, { pid: 42, startTicks: 2000 }] };
    expect(linesFor(told, twice)).toEqual(["watch 42 2000"]);
    expect(linesFor(told, { ...base, ends: [{ pid: 42, startTicks: 2000 }] })).toEqual([]);
  });

  it("send nothing for a change in a tree's PIDs past the line's length (the line sent is the same)", () => {
    const told = nothingTold();
    const pids = Array.from({ length: 20_000 }, (_, i) => 100_000 + i);
    const group = { pid: 1, pids, limitBytes: 10, near: true };
    linesFor(told, { ...base, memory: [group] });
    expect(linesFor(told, { ...base, memory: [{ ...group, pids: [...pids.slice(0, -1), 1] }] })).toEqual([]);
    expect(linesFor(told, { ...base, memory: [{ ...group, pids: [2, ...pids.slice(1)] }] })).toHaveLength(1);
  });

  it("send whole numbers of bytes, and a tree's PIDs only up to the sentinel's line length", () => {
    const told = nothingTold();
    const pids = Array.from({ length: 20_000 }, (_, i) => 100_000 + i);
    const [drop, group] = linesFor(told, { forksPerSurge: 0, memoryDropBytes: 1.5, ends: [], memory: [{ pid: 1, pids, limitBytes: 10.7, near: true }] });
    expect(drop).toBe("drop 1");
    expect(group!.startsWith("memory 1 10 near 100000 100001 ")).toBe(true);
    expect(group!.length).toBeLessThan(64 * 1024);
  });
});

describe("the sentinel's reports", () => {
  it("are read", () => {
    expect(parseReport("ready pidfd")).toEqual({ kind: "ready", ends: "pidfd" });
    expect(parseReport("forks 57")).toEqual({ kind: "forks", count: 57 });
    expect(parseReport("ended 42")).toEqual({ kind: "ended", pid: 42 });
    expect(parseReport("over 7 314572800")).toEqual({ kind: "over", pid: 7, rssBytes: 314572800 });
    expect(parseReport("synced s1")).toEqual({ kind: "synced", token: "s1" });
  });

  it("anything else is not a report", () => {
    for (const line of ["", "ready", "ready maybe", "forks", "forks x", "ended -1", "over 7", "over 7 x", "forks 1 2", "hello 1"]) expect(parseReport(line)).toBeNull();
  });
});
