// The CPU-spike detector on synthetic CPU series: a sustained climb far above
// the process's own baseline is told once; bursts, busy programs doing their
// usual and slow drifts are not.
import { describe, expect, it } from "vitest";
import type { CpuSpikeSettings } from "../../daemon/config/policy.js";
import { CpuSpikeDetector, SIGMA_FLOOR_PERCENT, thresholdOf } from "../../daemon/anomaly/cpuSpike.js";
import { DEFAULT_ANOMALY_SETTINGS } from "../../daemon/anomaly/settings.js";
import { noise, times } from "./series.js";

const T0 = 1_700_000_000_000;
const DEFAULTS: CpuSpikeSettings = DEFAULT_ANOMALY_SETTINGS.cpuSpike;

/** Feed a CPU curve (percent by second) to a fresh detector; the times (s) at which it alarmed. */
function alarms(curve: (t: number) => number, untilSec: number, settings: Partial<CpuSpikeSettings> = {}, jitter = 2): number[] {
  const detector = new CpuSpikeDetector();
  const wobble = noise(11, jitter);
  const found: number[] = [];
  for (const t of times(untilSec, 1)) {
    if (detector.observe("p", T0 + t * 1000, Math.max(0, curve(t) + wobble()), { ...DEFAULTS, ...settings })) found.push(t);
  }
  return found;
}

describe("threshold", () => {
  it("is the baseline plus sigma standard deviations, with a floor on σ and on the percentage", () => {
    expect(thresholdOf(2, 0, DEFAULTS)).toBe(DEFAULTS.minPercent);
    expect(thresholdOf(40, 10, DEFAULTS)).toBe(70);
    expect(thresholdOf(40, 1, DEFAULTS)).toBe(40 + DEFAULTS.sigma * SIGMA_FLOOR_PERCENT);
  });
});

describe("spikes", () => {
  it("tells an idle program pinned at 100% once, after `sustain` scans", () => {
    const found = alarms((t) => (t < 30 ? 3 : 100), 120);
    expect(found).toEqual([30 + DEFAULTS.sustain - 1]);
  });

  it("returns the figures: the sample, the baseline it rose from and the threshold", () => {
    const detector = new CpuSpikeDetector();
    let verdict = null;
    for (const t of times(60, 1)) verdict ??= detector.observe("p", T0 + t * 1000, t < 20 ? 5 : 95, DEFAULTS);
    expect(verdict).toMatchObject({ cpuPercent: 95, scans: DEFAULTS.sustain });
    expect(verdict!.baselinePercent).toBeCloseTo(5, 0);
    expect(verdict!.thresholdPercent).toBe(DEFAULTS.minPercent);
  });

  it("tells a new spike again once the first one has ended", () => {
    const found = alarms((t) => ((t >= 30 && t < 50) || (t >= 200 && t < 230) ? 100 : 3), 300);
    expect(found).toHaveLength(2);
  });

  it("judges nothing during the warm-up", () => {
    expect(alarms(() => 100, 8, { warmup: 10, sustain: 1 })).toEqual([]);
  });
});

describe("not spikes", () => {
  it("forgives bursts shorter than `sustain` scans (a browser loading a page)", () => {
    expect(alarms((t) => (t > 20 && t % 15 < 4 ? 100 : 5), 300)).toEqual([]);
  });

  it("stays quiet on a program that is always busy (its baseline is high)", () => {
    expect(alarms(() => 85, 300, {}, 8)).toEqual([]);
  });

  it("stays quiet on small rises that stay under min_percent", () => {
    expect(alarms((t) => (t < 30 ? 1 : 30), 300)).toEqual([]);
  });

  it("stays quiet on a slow drift the baseline follows", () => {
    expect(alarms((t) => Math.min(90, 2 + t * 0.1), 900)).toEqual([]);
  });
});
