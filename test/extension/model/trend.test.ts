// The Processes row's memory sparkline as geometry: scaling to the box, the limit's level, gaps
// where the program was down, and merging fetched samples.
import { describe, expect, it } from "vitest";

import { mergeSamples, sparklineGeometry, TREND_WINDOW_USEC, type TrendSample } from "../../../extension/src/model/trend.js";

const S = 1_000_000;
const MB = 1024 * 1024;
const now = 1_000 * S;
const at = (secondsAgo: number, rss: number): TrendSample => [now - secondsAgo * S, 0, rss];

describe("sparklineGeometry", () => {
  it("spans the last 10 minutes left to right and scales memory to the box, 0 at the bottom", () => {
    const geometry = sparklineGeometry([at(600, 50 * MB), at(300, 100 * MB), at(0, 25 * MB)], { width: 60, height: 20, nowUsec: now, limitBytes: 0 });
    expect(geometry.points).toBe(3);
    expect(geometry.segments).toHaveLength(3); // 300 s apart: each its own run
    expect(geometry.segments.map((run) => run[0])).toEqual([
      [0, 10],
      [30, 0],
      [60, 15],
    ]);
    expect(geometry.limitY).toBeNull();
  });

  it("puts the limit at the top when no sample reaches it", () => {
    const geometry = sparklineGeometry([at(2, 50 * MB), at(1, 50 * MB)], { width: 60, height: 20, nowUsec: now, limitBytes: 200 * MB });
    expect(geometry.limitY).toBe(0);
    expect(geometry.segments[0]!.map(([, y]) => y)).toEqual([15, 15]);
  });

  it("joins samples a scan apart and splits where the program was down", () => {
    const samples = [at(30, MB), at(29, MB), at(28, MB), at(10, MB), at(9, MB)];
    const geometry = sparklineGeometry(samples, { width: 600, height: 10, nowUsec: now, limitBytes: 0 });
    expect(geometry.segments.map((run) => run.length)).toEqual([3, 2]);
    expect(geometry.points).toBe(5);
  });

  it("leaves out samples older than the window, and draws nothing without samples", () => {
    expect(sparklineGeometry([at(700, MB)], { width: 60, height: 20, nowUsec: now, limitBytes: 0 }).points).toBe(0);
    expect(sparklineGeometry([], { width: 60, height: 20, nowUsec: now, limitBytes: MB })).toEqual({ segments: [], limitY: 0, points: 0 });
  });
});

describe("mergeSamples", () => {
  it("appends only newer samples and drops those older than the window", () => {
    const held = [at(700, 1), at(10, 2), at(5, 3)];
    const merged = mergeSamples(held, [at(5, 3), at(1, 4)], now);
    expect(merged.map(([, , rss]) => rss)).toEqual([2, 3, 4]);
    expect(merged[0]![0]).toBeGreaterThanOrEqual(now - TREND_WINDOW_USEC);
  });
});
