// The fork-surge sentinel: the kernel's fork counter grown by the threshold
// since the sentinel last told (in one look or over several) is told.
import { describe, expect, it } from "vitest";
import { ForkSurge, FORK_SURGE_PER_LOOK } from "../../../daemon/engine/sentinels/forkSurge.js";
import { ProcCounters } from "../../../daemon/proc/counters.js";
import { spawnSync } from "node:child_process";

function sentinel(counts: Array<number | null>) {
  const surges: number[] = [];
  let i = 0;
  const forkSurge = new ForkSurge({ forksSinceBoot: () => counts[i++] ?? null, surged: (forks) => surges.push(forks) });
  return { look: () => forkSurge.look(), surges };
}

describe("the fork-surge sentinel", () => {
  it("tells the forks once they add up to the threshold or more since it last told, within one look or over several", () => {
    const t = sentinel([1000, 1003, 1003 + FORK_SURGE_PER_LOOK, 1003 + FORK_SURGE_PER_LOOK + 1, 2000]);
    for (let i = 0; i < 5; i++) t.look();
    expect(t.surges).toEqual([3 + FORK_SURGE_PER_LOOK, 2000 - 1003 - FORK_SURGE_PER_LOOK]);
  });

  it("keeps forks below the threshold until they add up: a slow pace is told too", () => {
    const t = sentinel([1000, 1004, 1008, 1012, 1013]);
    for (let i = 0; i < 5; i++) t.look();
    expect(t.surges).toEqual([12]);
  });

  it("says nothing on its first look (no earlier count) or when the counter cannot be read", () => {
    const t = sentinel([5000, null, 9000, 9001]);
    for (let i = 0; i < 4; i++) t.look();
    expect(t.surges).toEqual([]);
  });
});

describe("the kernel's counters", () => {
  it("reads the fork counter, which grows with every fork, and the available memory", () => {
    const counters = new ProcCounters();
    const before = counters.forksSinceBoot();
    for (let i = 0; i < 3; i++) spawnSync("true");
    const after = counters.forksSinceBoot();
    expect(before).toBeGreaterThan(0);
    expect(after! - before!).toBeGreaterThanOrEqual(3);
    expect(counters.availableMemoryBytes()).toBeGreaterThan(0);
    counters.close();
  });

  it("is null for a /proc without those files", () => {
    const counters = new ProcCounters("/nonexistent");
    expect(counters.forksSinceBoot()).toBeNull();
    expect(counters.availableMemoryBytes()).toBeNull();
  });
});
