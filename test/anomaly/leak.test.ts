// The leak detector on synthetic RSS series: leaks are found, growth that
// levels off and saw-tooths are not, and each leak is told once per window.
import { describe, expect, it } from "vitest";
import type { LeakSettings } from "../../daemon/config/policy.js";
import { LeakDetector, LeakSeries, spansOf } from "../../daemon/anomaly/leak.js";
import { DEFAULT_ANOMALY_SETTINGS } from "../../daemon/anomaly/settings.js";
import { leak, levelOff, noise, sawTooth, times, type Curve } from "./series.js";

const MB = 1024 * 1024;
const T0 = 1_700_000_000_000;
const DEFAULTS: LeakSettings = DEFAULT_ANOMALY_SETTINGS.leak;

/** Feed a curve (plus noise) to a fresh detector; the times (s) at which it alarmed. */
function alarms(curve: Curve, untilSec: number, options: { step?: number; jitterMb?: number; settings?: Partial<LeakSettings>; seed?: number } = {}): number[] {
  const detector = new LeakDetector();
  const jitter = noise(options.seed ?? 7, options.jitterMb ?? 1);
  const settings = { ...DEFAULTS, ...options.settings };
  const found: number[] = [];
  for (const t of times(untilSec, options.step ?? 1)) {
    if (detector.observe("p", T0 + t * 1000, (curve(t) + jitter()) * MB, settings)) found.push(t);
  }
  return found;
}

describe("spans judged", () => {
  it("double from min_duration up to the window, the window last", () => {
    expect(spansOf(DEFAULTS)).toEqual([8, 16, 32, 64, 120]);
    expect(spansOf({ ...DEFAULTS, windowSec: 10, minDurationSec: 30 })).toEqual([10]);
  });
});

describe("leaks", () => {
  it("flags a 5 MB/s leak within 10 s of its onset, with its rate and fit", () => {
    const detector = new LeakDetector();
    const jitter = noise(1, 1);
    let verdict = null;
    let at = -1;
    for (const t of times(30, 1)) {
      verdict = detector.observe("p", T0 + t * 1000, (leak(45, 3, 5)(t) + jitter()) * MB, DEFAULTS);
      if (verdict) {
        at = t;
        break;
      }
    }
    expect(at).toBeGreaterThan(3);
    expect(at - 3).toBeLessThanOrEqual(10);
    expect(verdict).not.toBeNull();
    expect(verdict!.slopeMbPerSec).toBeGreaterThan(2);
    expect(verdict!.r2).toBeGreaterThanOrEqual(DEFAULTS.minR2);
    expect(verdict!.growthMb).toBeGreaterThanOrEqual(DEFAULTS.minGrowthMb);
  });

  it("gives the fitted line's value at the span's end, so that the line can be drawn over the samples", () => {
    // A clean 4 MB/s leak from 100 MB: the fitted line is the curve itself.
    const detector = new LeakDetector();
    let verdict = null;
    let at = 0;
    for (const t of times(60, 1)) {
      verdict = detector.observe("p", T0 + t * 1000, (100 + 4 * t) * MB, DEFAULTS);
      if (verdict) {
        at = t;
        break;
      }
    }
    expect(verdict).not.toBeNull();
    expect(verdict!.fitEndMb).toBeCloseTo(100 + 4 * at, 6);
    expect(verdict!.slopeMbPerSec).toBeCloseTo(4, 6);
    // With noise, the line's end lies near the last sample, not on it.
    const noisy = new LeakDetector();
    const jitter = noise(3, 2);
    let found = null;
    let last = 0;
    for (const t of times(60, 1)) {
      last = 100 + 4 * t + jitter();
      found = noisy.observe("p", T0 + t * 1000, last * MB, DEFAULTS);
      if (found) break;
    }
    expect(found).not.toBeNull();
    expect(Math.abs(found!.fitEndMb - last)).toBeLessThan(6);
    expect(found!.fitEndMb).not.toBe(found!.rssMb);
  });

  it("flags the same leak sampled every 0.2 s, as fast", () => {
    const found = alarms(leak(45, 3, 5), 30, { step: 0.2 });
    expect(found[0]! - 3).toBeLessThanOrEqual(10);
  });

  it("flags a slow 1 MB/s leak once enough growth is seen (a longer span)", () => {
    const found = alarms(leak(200, 0, 1), 60);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toBeGreaterThanOrEqual(DEFAULTS.minGrowthMb);
    expect(found[0]).toBeLessThanOrEqual(40);
  });

  it("tells a continuing leak once per window, not on every scan", () => {
    const found = alarms(leak(45, 0, 5), 200);
    expect(found.length).toBe(2);
    expect(found[1]! - found[0]!).toBeGreaterThanOrEqual(DEFAULTS.windowSec);
  });

  it("ignores growth slower than min_rate_mb_per_min, however steady", () => {
    // 6 MB/min for ten minutes: a perfect line, under the default 10 MB/min.
    expect(alarms(leak(100, 0, 0.1), 600, { jitterMb: 0 })).toEqual([]);
    expect(alarms(leak(100, 0, 0.1), 600, { jitterMb: 0, settings: { minRateMbPerMin: 5, minGrowthMb: 10 } }).length).toBeGreaterThan(0);
  });

  it("ignores a steady climb that has not yet grown min_growth_mb", () => {
    expect(alarms(leak(100, 0, 0.5), 30, { jitterMb: 0 })).toEqual([]);
  });
});

describe("not leaks", () => {
  it("stays quiet on a cache warming up and levelling off", () => {
    expect(alarms(levelOff(45, 4, 5, 2), 120)).toEqual([]);
    expect(alarms(levelOff(45, 4, 5, 2), 120, { step: 0.2 })).toEqual([]);
    // Even a long warm-up at 5 MB/s, as long as it ends within min_duration.
    expect(alarms(levelOff(45, 6, 5, 0.5), 120)).toEqual([]);
  });

  it("stays quiet when the warm-up or the saw-tooth starts after a flat stretch (growth that has not lasted the span)", () => {
    const after = (delaySec: number, curve: Curve): Curve => (t) => (t < delaySec ? curve(0) : curve(t - delaySec));
    expect(alarms(after(3, levelOff(45, 4, 5, 1)), 120)).toEqual([]);
    expect(alarms(after(3, sawTooth(45, 4, 5)), 120)).toEqual([]);
    expect(alarms(after(30, levelOff(45, 4, 5, 1)), 120, { step: 0.5, seed: 5 })).toEqual([]);
  });

  it("stays quiet on a garbage collector's saw-tooth", () => {
    expect(alarms(sawTooth(60, 4, 5), 300)).toEqual([]);
    expect(alarms(sawTooth(60, 4, 5), 300, { step: 0.2, seed: 3 })).toEqual([]);
  });

  // A daemon held up on a loaded machine reads nothing for a few seconds. When that gap hides a
  // drop, the samples after it show one clean tooth: not growth that has lasted min_duration.
  it("stays quiet on a saw-tooth whose drop fell in a gap between samples", () => {
    const tooth = sawTooth(45, 4, 5);
    const gap = (t: number) => t > 14 && t < 20;
    const found: number[] = [];
    const detector = new LeakDetector();
    for (const t of times(60, 1)) {
      if (!gap(t) && detector.observe("p", T0 + t * 1000, tooth(t) * MB, DEFAULTS)) found.push(t);
    }
    expect(found).toEqual([]);
  });

  it("still finds a leak whose samples had a gap, once its samples cover a span", () => {
    const detector = new LeakDetector();
    const found: number[] = [];
    for (const t of times(60, 1)) {
      if (t > 4 && t < 10) continue;
      if (detector.observe("p", T0 + t * 1000, (45 + 5 * t) * MB, DEFAULTS)) found.push(t);
    }
    expect(found.length).toBeGreaterThan(0);
  });

  it("stays quiet on a step up (a document opened) and on noise", () => {
    expect(alarms((t) => (t < 20 ? 80 : 160), 120)).toEqual([]);
    expect(alarms(() => 100, 300, { jitterMb: 15 })).toEqual([]);
  });

  it("would flag the warm-up if it went on past min_duration: the limit is documented, not hidden", () => {
    expect(alarms(levelOff(45, 12, 5, 1), 60).length).toBeGreaterThan(0);
  });
});

describe("LeakSeries", () => {
  it("keeps only the window", () => {
    const series = new LeakSeries();
    for (const t of times(1000, 1)) series.push(T0 + t * 1000, MB, 120);
    expect(series.length).toBe(121);
  });

  it("does not judge before it has min_duration of samples", () => {
    const series = new LeakSeries();
    for (const t of times(6, 1)) series.push(T0 + t * 1000, (45 + 10 * t) * MB, 120);
    expect(series.judge(DEFAULTS)).toBeNull();
    series.push(T0 + 7500, 120 * MB, 120);
    expect(series.judge(DEFAULTS)).not.toBeNull();
  });
});
