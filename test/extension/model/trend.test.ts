// The Processes row's memory sparkline as geometry: scaling to the box, the limit's level, gaps
// where the program was down, and merging fetched samples.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

import { decodeHistory, leakCurveGeometry, leakFitOf, mergeSamples, sparklineGeometry, TREND_WINDOW_USEC, type LeakFit, type TrendSample } from "../../../extension/src/model/trend.js";

const S = 1_000_000;
const MB = 1024 * 1024;
const now = 1_000 * S;
const at = (secondsAgo: number, rss: number): TrendSample => [now - secondsAgo * S, 0, rss];

describe("sparklineGeometry", () => {
  it("spans ten minutes of samples left to right and scales memory to the box, 0 at the bottom", () => {
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

  it("spans the samples held, from the oldest to now: a program that has run for a minute fills the box", () => {
    const minute: TrendSample[] = [];
    for (let ago = 60; ago >= 0; ago--) minute.push(at(ago, 10 * MB));
    const geometry = sparklineGeometry(minute, { width: 60, height: 20, nowUsec: now, limitBytes: 0 });
    expect(geometry.points).toBe(61);
    expect(geometry.segments).toHaveLength(1);
    expect(geometry.segments[0]![0]).toEqual([0, 0]);
    expect(geometry.segments[0]!.at(-1)).toEqual([60, 0]);
    // Stopped 30 s ago after running a minute: the box holds the minute and the 30 s since.
    const stopped = sparklineGeometry(minute.map(([time, cpu, rss]) => [time - 30 * S, cpu, rss] as TrendSample), { width: 90, height: 20, nowUsec: now, limitBytes: 0 });
    expect(stopped.segments[0]![0]![0]).toBe(0);
    expect(stopped.segments[0]!.at(-1)![0]).toBe(60);
    // One sample, taken now: at the right edge.
    expect(sparklineGeometry([at(0, MB)], { width: 60, height: 20, nowUsec: now, limitBytes: 0 }).segments).toEqual([[[60, 0]]]);
  });

  it("draws at most one point per pixel column, at the highest sample in it", () => {
    // Ten minutes of scans 250 ms apart (2 400 samples), one of them a spike, into 60 pixels.
    const samples: TrendSample[] = [];
    for (let i = 2399; i >= 0; i--) samples.push(at(i / 4, (i === 1000 ? 80 : 20) * MB));
    const geometry = sparklineGeometry(samples, { width: 60, height: 20, nowUsec: now, limitBytes: 0 });
    expect(geometry.points).toBe(2400);
    expect(geometry.segments).toHaveLength(1);
    const run = geometry.segments[0]!;
    expect(run.length).toBeLessThanOrEqual(61);
    expect(new Set(run.map(([x]) => Math.floor(x))).size).toBe(run.length);
    expect(Math.min(...run.map(([, y]) => y))).toBe(0); // the spike is kept
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

  it("keeps the held samples as they are when nothing is new", () => {
    const held = [at(10, 2), at(5, 3)];
    expect(mergeSamples(held, [], now)).toBe(held);
    expect(mergeSamples(held, [at(5, 3)], now)).toBe(held);
  });
});

describe("a leak's curve and the line fitted to it", () => {
  // A 2 MB/s leak judged over 30 s that ended at `now`, at 160 MB on the fitted line.
  const fit: LeakFit = { endUsec: now, spanSec: 30, slopeMbPerSec: 2, fitEndMb: 160 };

  it("reads the fit from a memory_leak anomaly's figures, and nothing from other kinds or older daemons", () => {
    const record = { timeUsec: now, process: "leaky", pid: 7, type: "memory_leak", detail: "", action: "notify", figures: { spanSec: 30, slopeMbPerSec: 2, fitEndMb: 160, r2: 0.99 } };
    expect(leakFitOf(record)).toEqual(fit);
    expect(leakFitOf({ ...record, type: "cpu_spike" })).toBeNull();
    expect(leakFitOf({ ...record, figures: { spanSec: 30, slopeMbPerSec: 2 } })).toBeNull();
  });

  it("shows the span in the right two thirds, the samples before it on the left, and the line over the span", () => {
    // Flat at 100 MB until the span began, then the leak; samples 1 s apart.
    const samples: TrendSample[] = [];
    for (let ago = 45; ago >= 0; ago--) samples.push(at(ago, (ago > 30 ? 100 : 160 - 2 * ago) * MB));
    const geometry = leakCurveGeometry(samples, fit, { width: 90, height: 40 });
    expect(geometry.points).toBe(46);
    expect(geometry.segments).toHaveLength(1);
    // The window is 1.5 spans (45 s): x = 2 px per second; the highest of curve and line (160 MB) at the top.
    expect(geometry.segments[0]![0]).toEqual([0, 40 - (100 / 160) * 40]);
    expect(geometry.segments[0]!.at(-1)).toEqual([90, 0]);
    expect(geometry.fit).toEqual([
      [30, 40 - (100 / 160) * 40],
      [90, 0],
    ]);
  });

  it("leaves out samples outside the window and keeps the line inside the box when it starts below 0 MB", () => {
    const steep: LeakFit = { endUsec: now, spanSec: 10, slopeMbPerSec: 20, fitEndMb: 100 };
    const geometry = leakCurveGeometry([at(60, 10 * MB), at(5, 50 * MB), at(0, 100 * MB), [now + 5 * S, 0, 120 * MB]], steep, { width: 30, height: 10 });
    expect(geometry.points).toBe(2);
    // The line would start at -100 MB: it is drawn from where it crosses 0, 5 s before the end.
    expect(geometry.fit[0]).toEqual([20, 10]);
    expect(geometry.fit[1]).toEqual([30, 0]);
  });
});

describe("decodeHistory", () => {
  // The bytes GLib itself serialises for an a(tdd) (gjs prints them), read back sample for sample.
  it("reads GetHistory's a(tdd) as GLib serialises it", () => {
    const samples: TrendSample[] = [
      [1_796_142_012_345_678, 12.5, 104_857_600],
      [1_796_142_012_595_678, 0, 0],
      [1_796_142_012_845_678, 399.75, 8_589_934_592],
    ];
    const script = `const { GLib } = imports.gi; const v = new GLib.Variant("a(tdd)", ${JSON.stringify(samples)}); print(Array.from(v.get_data_as_bytes().toArray()).join(","));`;
    const bytes = Uint8Array.from(execFileSync("gjs", ["-c", script], { encoding: "utf8" }).trim().split(",").map(Number));
    expect(bytes.byteLength).toBe(72);
    expect(decodeHistory(bytes)).toEqual(samples);
    expect(decodeHistory(new Uint8Array(0))).toEqual([]);
  });

  it("refuses bytes that are not whole samples", () => {
    expect(() => decodeHistory(new Uint8Array(25))).toThrow(/25 bytes, not a multiple of 24/);
  });
});
