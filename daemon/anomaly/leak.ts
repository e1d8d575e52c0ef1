// Memory leaks: a sustained upward trend of resident memory, not merely a few
// rising samples. Each process's RSS is kept over a sliding window and judged
// over spans that double from `minDurationSec` up to the window, so a fast
// leak is seen soon and a slow one once enough of it has been seen. A span is
// a leak when its least-squares line
//   - rises at least `minRateMbPerMin`, and by at least `minGrowthMb` over the span,
//   - fits well (r² ≥ `minR2`), which a garbage collector's saw-tooth does not,
//   - grows in each third of the span, none less than 70% as fast as the
//     fastest, so growth must have lasted the whole span: a burst of growth
//     after a flat stretch (a cache starting to warm up) is not yet a leak,
//   - and is not levelling off: the slope at the span's end of a fitted
//     parabola is still at least half the line's, which a cache warming up
//     (fast growth, then flat) fails.
// Pure: fed (time, bytes) samples, it knows nothing of /proc or the clock.
import type { LeakSettings } from "../config/policy.js";
import { BYTES_PER_MB } from "../config/defaults.js";
import { endSlopeOfParabola, fitLine } from "./fit.js";

/** What a confirmed leak looked like, for the event. */
export interface LeakVerdict {
  slopeMbPerSec: number;
  r2: number;
  /** The span judged, seconds. */
  spanSec: number;
  /** Growth over the span along the fitted line, MB. */
  growthMb: number;
  /** Slope of the fitted parabola at the span's end, MB/s. */
  endSlopeMbPerSec: number;
  rssMb: number;
  /** The fitted line's value at the span's last sample, MB: with the slope and the span, the line itself (for drawing it). */
  fitEndMb: number;
}

const MS_PER_SEC = 1000;
const SEC_PER_MIN = 60;
/** A span needs at least this many samples to be judged. */
export const MIN_SAMPLES_PER_SPAN = 5;
/** The samples must reach back over this share of a span for it to be judged. */
const SPAN_COVERAGE = 0.9;
/** Growth whose end slope falls under this share of the average slope is levelling off. */
export const LEVELLING_OFF_RATIO = 0.5;
/** Each part of a span must grow at least this share of the fastest part's slope. */
export const SUSTAINED_RATIO = 0.7;
/** Into how many parts a span is cut to check that its growth lasted throughout. */
export const SPAN_PARTS = 3;
/** Compact the sample arrays once this many dropped samples lie before the head. */
const COMPACT_AFTER = 256;

// The RSS of one process over the window: times in seconds, values in MB.
export class LeakSeries {
  private times: number[] = [];
  private values: number[] = [];
  private head = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  // Add a sample and drop those older than the window.
  push(timeMs: number, rssBytes: number, windowSec: number): void {
    const t = timeMs / MS_PER_SEC;
    this.times.push(t);
    this.values.push(rssBytes / BYTES_PER_MB);
    const oldest = t - windowSec;
    while (this.head < this.times.length && this.times[this.head]! < oldest) this.head++;
    if (this.head >= COMPACT_AFTER) {
      this.times = this.times.slice(this.head);
      this.values = this.values.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.times = [];
    this.values = [];
    this.head = 0;
  }

  // The first span, shortest first, that shows a leak; null when none does.
  judge(settings: LeakSettings): LeakVerdict | null {
    const end = this.times.length;
    if (end - this.head < MIN_SAMPLES_PER_SPAN) return null;
    const now = this.times[end - 1]!;
    const covered = now - this.times[this.head]!;
    for (const span of spansFor(settings)) {
      if (covered < span * SPAN_COVERAGE) break;
      const from = this.firstIndexAtOrAfter(now - span);
      // The span's own samples must reach back over it too: after a gap (a daemon held up on a loaded
      // machine), a short run of samples is not growth that lasted the span; a longer span may cover the gap.
      if (from >= end || now - this.times[from]! < span * SPAN_COVERAGE) continue;
      const verdict = this.judgeSpan(from, end, settings);
      if (verdict) return verdict;
    }
    return null;
  }

  private judgeSpan(from: number, to: number, settings: LeakSettings): LeakVerdict | null {
    if (to - from < MIN_SAMPLES_PER_SPAN) return null;
    const spanSec = this.times[to - 1]! - this.times[from]!;
    const line = fitLine(this.times, this.values, from, to);
    const growthMb = line.slope * spanSec;
    if (line.slope * SEC_PER_MIN < settings.minRateMbPerMin || growthMb < settings.minGrowthMb || line.r2 < settings.minR2) return null;
    // Sustained: every part of the span grows, about as fast as the others (a late start or an early stop is not a leak) ...
    if (!this.growsThroughout(from, to)) return null;
    // ... and it is not levelling off at the end.
    const endSlope = endSlopeOfParabola(this.times, this.values, from, to) ?? line.slope;
    if (endSlope < LEVELLING_OFF_RATIO * line.slope) return null;
    return {
      slopeMbPerSec: line.slope,
      r2: line.r2,
      spanSec,
      growthMb,
      endSlopeMbPerSec: endSlope,
      rssMb: this.values[to - 1]!,
      fitEndMb: line.meanValue + line.slope * (this.times[to - 1]! - line.meanTime),
    };
  }

  // Whether each of SPAN_PARTS equal parts of the span rises at least SUSTAINED_RATIO as fast as the fastest part.
  private growsThroughout(from: number, to: number): boolean {
    const start = this.times[from]!;
    const length = this.times[to - 1]! - start;
    const slopes: number[] = [];
    let partFrom = from;
    for (let part = 1; part <= SPAN_PARTS; part++) {
      const partTo = part === SPAN_PARTS ? to : this.firstIndexAtOrAfter(start + (length * part) / SPAN_PARTS);
      // A part's line joins it to the next part's first sample, so no growth between parts is missed.
      const end = Math.min(to, partTo + 1);
      if (end - partFrom < 2) return false;
      slopes.push(fitLine(this.times, this.values, partFrom, end).slope);
      partFrom = partTo;
    }
    return Math.min(...slopes) >= SUSTAINED_RATIO * Math.max(...slopes);
  }

  // Index of the first kept sample at or after time t (binary search).
  private firstIndexAtOrAfter(t: number): number {
    let low = this.head;
    let high = this.times.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.times[middle]! < t) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

// The spans judged: minDuration, doubling, up to the window (the window last).
export function spansOf(settings: LeakSettings): number[] {
  const window = settings.windowSec;
  const spans: number[] = [];
  for (let span = Math.min(settings.minDurationSec, window); span < window; span *= 2) spans.push(span);
  spans.push(window);
  return spans;
}

const spansBySettings = new WeakMap<LeakSettings, readonly number[]>();

// spansOf, made once per settings object (each process is judged at every scan with the same settings).
function spansFor(settings: LeakSettings): readonly number[] {
  let spans = spansBySettings.get(settings);
  if (spans === undefined) {
    spans = spansOf(settings);
    spansBySettings.set(settings, spans);
  }
  return spans;
}

/** The leak detector's memory of one watched process. */
interface Tracked {
  series: LeakSeries;
  /** No new alarm before this time (ms): one alarm per window. */
  quietUntilMs: number;
  seenAtMs: number;
}

// Follows many processes by key; says when one of them leaks, at most once per window.
export class LeakDetector {
  private readonly tracked = new Map<string, Tracked>();

  // Add one sample of key's RSS; returns a verdict when this sample confirms a leak.
  observe(key: string, timeMs: number, rssBytes: number, settings: LeakSettings): LeakVerdict | null {
    let entry = this.tracked.get(key);
    if (!entry) {
      entry = { series: new LeakSeries(), quietUntilMs: 0, seenAtMs: timeMs };
      this.tracked.set(key, entry);
    }
    entry.seenAtMs = timeMs;
    entry.series.push(timeMs, rssBytes, settings.windowSec);
    if (timeMs < entry.quietUntilMs) return null;
    const verdict = entry.series.judge(settings);
    if (!verdict) return null;
    // Start afresh: the same growth is not reported again, new growth must be seen anew.
    entry.series.clear();
    entry.quietUntilMs = timeMs + settings.windowSec * MS_PER_SEC;
    return verdict;
  }

  forget(key: string): void {
    this.tracked.delete(key);
  }

  // Drop every key not observed at or after sinceMs (processes that are gone).
  forgetUnseenSince(sinceMs: number): void {
    for (const [key, entry] of this.tracked) if (entry.seenAtMs < sinceMs) this.tracked.delete(key);
  }

  get size(): number {
    return this.tracked.size;
  }
}

