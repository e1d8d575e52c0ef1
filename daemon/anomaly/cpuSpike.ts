// CPU spikes: a process using far more CPU than its own recent baseline, for
// long enough that it is not a burst. The baseline is an exponentially
// weighted moving average (and variance) of the process's CPU %, with a time
// constant of `baselineSec`; a sample is over when it exceeds
//   max(mean + sigma × max(σ, SIGMA_FLOOR), minPercent)
// and a spike is `sustain` consecutive samples over. While samples are over
// and not yet confirmed, the baseline is frozen, so a spike cannot raise its
// own bar; once a spike is reported the baseline follows again, so a program
// that has moved to a new steady level is reported once, then accepted.
// Pure: fed (time, percent) samples.
import type { CpuSpikeSettings } from "../config/policy.js";

export interface CpuSpikeVerdict {
  cpuPercent: number;
  baselinePercent: number;
  sigmaPercent: number;
  thresholdPercent: number;
  /** Consecutive samples over the threshold. */
  scans: number;
}

/** The least σ used, in percentage points: an idle program's σ near 0 must not make 1% a spike. */
export const SIGMA_FLOOR_PERCENT = 5;
const MS_PER_SEC = 1000;

interface Baseline {
  mean: number;
  variance: number;
  samples: number;
  lastMs: number;
  /** Consecutive samples over the threshold. */
  over: number;
  /** This run of samples over has been reported. */
  reported: boolean;
  seenAtMs: number;
}

// Follows many processes by key; says when one of them starts a sustained spike, once per spike.
export class CpuSpikeDetector {
  private readonly baselines = new Map<string, Baseline>();

  // Add one CPU sample of key; returns a verdict when this sample confirms a spike.
  observe(key: string, timeMs: number, cpuPercent: number, settings: CpuSpikeSettings): CpuSpikeVerdict | null {
    const state = this.baselines.get(key);
    if (!state) {
      this.baselines.set(key, { mean: cpuPercent, variance: 0, samples: 1, lastMs: timeMs, over: 0, reported: false, seenAtMs: timeMs });
      return null;
    }
    state.seenAtMs = timeMs;
    const elapsedSec = Math.max(0, (timeMs - state.lastMs) / MS_PER_SEC);
    state.lastMs = timeMs;
    if (state.samples < settings.warmup) {
      follow(state, cpuPercent, elapsedSec, settings.baselineSec);
      return null;
    }
    const sigma = Math.sqrt(state.variance);
    const threshold = thresholdOf(state.mean, sigma, settings);
    if (cpuPercent <= threshold) {
      state.over = 0;
      state.reported = false;
      follow(state, cpuPercent, elapsedSec, settings.baselineSec);
      return null;
    }
    state.over++;
    if (state.reported) {
      follow(state, cpuPercent, elapsedSec, settings.baselineSec);
      return null;
    }
    if (state.over < settings.sustain) return null;
    state.reported = true;
    return { cpuPercent, baselinePercent: state.mean, sigmaPercent: sigma, thresholdPercent: threshold, scans: state.over };
  }

  forget(key: string): void {
    this.baselines.delete(key);
  }

  // Drop every key not observed at or after sinceMs (processes that are gone).
  forgetUnseenSince(sinceMs: number): void {
    for (const [key, state] of this.baselines) if (state.seenAtMs < sinceMs) this.baselines.delete(key);
  }
}

// The CPU % above which a sample is over.
export function thresholdOf(mean: number, sigma: number, settings: CpuSpikeSettings): number {
  return Math.max(mean + settings.sigma * Math.max(sigma, SIGMA_FLOOR_PERCENT), settings.minPercent);
}

// Move the baseline toward a sample, weighted by the time since the last one.
function follow(state: Baseline, value: number, elapsedSec: number, timeConstantSec: number): void {
  const alpha = 1 - Math.exp(-elapsedSec / timeConstantSec);
  const diff = value - state.mean;
  const increment = alpha * diff;
  state.mean += increment;
  state.variance = (1 - alpha) * (state.variance + diff * increment);
  state.samples++;
}
