// The memory sparkline of a Processes row, as geometry: the samples of the last minutes (from
// GetHistory) placed in a small box, split where the program was not running, at most one point
// per pixel column, and the memory limit as a level. And a leak anomaly's curve: the samples
// around the span the leak was judged on, with the line fitted to them. No GNOME imports: the
// views only stroke what this returns.

import type { AnomalyRecord } from "./records.js";

/** One sample of GetHistory: time in microseconds, CPU percent, resident bytes. */
export type TrendSample = readonly [timeUsec: number, cpuPercent: number, rssBytes: number];

/** The most time a sparkline spans, in microseconds: all the daemon keeps. */
export const TREND_WINDOW_USEC = 10 * 60 * 1_000_000;
/** Samples further apart than this are not joined: the program was down between them. */
export const TREND_GAP_USEC = 5 * 1_000_000;

export interface SparklineBox {
  width: number;
  height: number;
  /** The right edge's time (now). */
  nowUsec: number;
  /** The memory limit in bytes, 0 for none. */
  limitBytes: number;
}

export interface SparklineGeometry {
  /** Runs of points joined by lines, left to right; one run per stretch the program ran. */
  segments: Array<Array<[x: number, y: number]>>;
  /** The limit's height in the box, or null without a limit. */
  limitY: number | null;
  /** How many samples are drawn. */
  points: number;
}

// Places the samples of the last TREND_WINDOW_USEC in the box: time to x from the oldest sample
// held (at the left edge) to now (at the right edge), so that a program that has run for a minute
// fills the box as one that has run for ten; memory to y (0 at the bottom, the larger of the
// highest sample and the limit at the top).
export function sparklineGeometry(samples: readonly TrendSample[], box: SparklineBox, gapUsec = TREND_GAP_USEC): SparklineGeometry {
  const windowStart = box.nowUsec - TREND_WINDOW_USEC;
  const oldest = samples.find(([time]) => time >= windowStart && time <= box.nowUsec);
  const startUsec = oldest === undefined ? windowStart : oldest[0];
  const plot = plotSamples(samples, { startUsec, endUsec: box.nowUsec, width: box.width, height: box.height, atLeastBytes: box.limitBytes }, gapUsec);
  return { segments: plot.segments, limitY: box.limitBytes > 0 ? plot.yOf(box.limitBytes) : null, points: plot.points };
}

/** The line a leak was judged by: its slope over the span that ended at the anomaly. */
export interface LeakFit {
  endUsec: number;
  spanSec: number;
  slopeMbPerSec: number;
  /** The line's value at the span's end, MB (binary). */
  fitEndMb: number;
}

export interface LeakCurveGeometry {
  segments: Array<Array<[x: number, y: number]>>;
  /** The fitted line's two ends in the box. */
  fit: [[x: number, y: number], [x: number, y: number]];
  points: number;
}

const MB = 1024 * 1024;
const USEC_PER_SEC = 1_000_000;
/** A leak's picture spans this many of its spans: the samples before the span show where it began. */
const LEAK_WINDOW_SPANS = 1.5;

// The fitted line of a memory_leak anomaly, or null for other kinds and for a daemon that does not send it.
export function leakFitOf(record: AnomalyRecord): LeakFit | null {
  const { spanSec, slopeMbPerSec, fitEndMb } = record.figures;
  if (record.type !== "memory_leak" || spanSec === undefined || slopeMbPerSec === undefined || fitEndMb === undefined || spanSec <= 0) return null;
  return { endUsec: record.timeUsec, spanSec, slopeMbPerSec, fitEndMb };
}

// Where a leak's picture begins: the samples to fetch are those since then.
export function leakWindowStartUsec(fit: LeakFit): number {
  return Math.max(0, Math.floor(fit.endUsec - LEAK_WINDOW_SPANS * fit.spanSec * USEC_PER_SEC));
}

// The samples of the 1.5 spans up to the anomaly, with the fitted line over the span; the line is
// drawn from where it is above 0 MB.
export function leakCurveGeometry(samples: readonly TrendSample[], fit: LeakFit, box: { width: number; height: number }, gapUsec = TREND_GAP_USEC): LeakCurveGeometry {
  const spanUsec = fit.spanSec * USEC_PER_SEC;
  const startUsec = leakWindowStartUsec(fit);
  const fitStartMb = fit.fitEndMb - fit.slopeMbPerSec * fit.spanSec;
  // Where the line crosses 0 MB when it would start below it.
  const lineStartUsec = fitStartMb >= 0 ? fit.endUsec - spanUsec : fit.endUsec - (fit.fitEndMb / fit.slopeMbPerSec) * USEC_PER_SEC;
  const plot = plotSamples(samples, { startUsec, endUsec: fit.endUsec, width: box.width, height: box.height, atLeastBytes: Math.max(fit.fitEndMb, fitStartMb) * MB }, gapUsec);
  return {
    segments: plot.segments,
    fit: [
      [plot.xOf(lineStartUsec), plot.yOf(Math.max(0, fitStartMb) * MB)],
      [plot.xOf(fit.endUsec), plot.yOf(fit.fitEndMb * MB)],
    ],
    points: plot.points,
  };
}

interface PlotFrame {
  startUsec: number;
  endUsec: number;
  width: number;
  height: number;
  /** The top of the box is at least this many bytes. */
  atLeastBytes: number;
}

// The samples between the frame's start and end as runs of points (split at gaps), with the
// frame's scales: time to x, bytes to y (0 at the bottom). Samples that fall in the same pixel
// column of a run are one point at the highest of them: ten minutes of scans are 2 400 samples,
// and a sparkline is some 60 pixels wide.
function plotSamples(samples: readonly TrendSample[], frame: PlotFrame, gapUsec: number) {
  let top = Math.max(frame.atLeastBytes, 1);
  let points = 0;
  for (const [time, , rss] of samples) {
    if (time < frame.startUsec || time > frame.endUsec) continue;
    points++;
    if (rss > top) top = rss;
  }
  const span = frame.endUsec - frame.startUsec;
  const xOf = (time: number): number => (span > 0 ? ((time - frame.startUsec) / span) * frame.width : frame.width);
  const yOf = (bytes: number): number => frame.height - (bytes / top) * frame.height;
  const segments: Array<Array<[number, number]>> = [];
  let run: Array<[number, number]> = [];
  let previous: number | null = null;
  for (const [time, , rss] of samples) {
    if (time < frame.startUsec || time > frame.endUsec) continue;
    const point: [number, number] = [xOf(time), yOf(rss)];
    const last = run[run.length - 1];
    if (previous === null || time - previous > gapUsec) {
      run = [point];
      segments.push(run);
    } else if (last !== undefined && Math.floor(last[0]) === Math.floor(point[0])) {
      last[1] = Math.min(last[1], point[1]);
    } else {
      run.push(point);
    }
    previous = time;
  }
  return { segments, points, xOf, yOf };
}

// Adds newly fetched samples (oldest first, as GetHistory sends them) to those held, keeping the
// last TREND_WINDOW_USEC (oldest first); the held array itself when nothing changes.
export function mergeSamples(held: readonly TrendSample[], fresh: readonly TrendSample[], nowUsec: number): readonly TrendSample[] {
  const last = held.length > 0 ? held[held.length - 1]![0] : -Infinity;
  const start = nowUsec - TREND_WINDOW_USEC;
  let dropped = 0;
  while (dropped < held.length && held[dropped]![0] < start) dropped++;
  let skipped = 0;
  while (skipped < fresh.length && (fresh[skipped]![0] <= last || fresh[skipped]![0] < start)) skipped++;
  if (dropped === 0 && skipped === fresh.length) return held;
  return held.slice(dropped).concat(fresh.slice(skipped));
}

/** The size of one serialised (tdd) in GVariant's format: three 8-byte values, no padding. */
const SAMPLE_BYTES = 24;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// GetHistory's a(tdd), read straight from its serialised bytes (GLib.Variant.get_data_as_bytes()
// of the array, in this machine's byte order). An array of a fixed-size tuple is the tuples end to
// end, so this is one pass over a typed view: unpacking the Variant instead asks GLib for every
// value of every sample, about 30 times slower (124 ms for 2 400 samples, 50 rows' worth per
// fresh menu, on the main loop of the shell).
export function decodeHistory(bytes: Uint8Array): TrendSample[] {
  if (bytes.byteLength % SAMPLE_BYTES !== 0) throw new Error(`GetHistory's a(tdd) has ${bytes.byteLength} bytes, not a multiple of ${SAMPLE_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples: TrendSample[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += SAMPLE_BYTES) {
    samples.push([Number(view.getBigUint64(offset, LITTLE_ENDIAN)), view.getFloat64(offset + 8, LITTLE_ENDIAN), view.getFloat64(offset + 16, LITTLE_ENDIAN)]);
  }
  return samples;
}
