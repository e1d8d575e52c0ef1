// The memory sparkline of a Processes row, as geometry: the samples of the last minutes (from
// GetHistory) placed in a small box, split where the program was not running, and the memory
// limit as a level. No GNOME imports: the view only strokes what this returns.

/** One sample of GetHistory: time in microseconds, CPU percent, resident bytes. */
export type TrendSample = readonly [timeUsec: number, cpuPercent: number, rssBytes: number];

/** How much time a sparkline spans, in microseconds: all the daemon keeps. */
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

// Places the samples of the last TREND_WINDOW_USEC in the box: time to x, memory to y (0 at the
// bottom, the larger of the highest sample and the limit at the top).
export function sparklineGeometry(samples: readonly TrendSample[], box: SparklineBox, gapUsec = TREND_GAP_USEC): SparklineGeometry {
  const start = box.nowUsec - TREND_WINDOW_USEC;
  const shown = samples.filter(([time]) => time >= start && time <= box.nowUsec);
  const top = Math.max(box.limitBytes, ...shown.map(([, , rss]) => rss), 1);
  const yOf = (bytes: number): number => box.height - (bytes / top) * box.height;
  const segments: Array<Array<[number, number]>> = [];
  let previous: number | null = null;
  for (const [time, , rss] of shown) {
    const point: [number, number] = [((time - start) / TREND_WINDOW_USEC) * box.width, yOf(rss)];
    if (previous === null || time - previous > gapUsec) segments.push([point]);
    else segments[segments.length - 1]!.push(point);
    previous = time;
  }
  return { segments, limitY: box.limitBytes > 0 ? yOf(box.limitBytes) : null, points: shown.length };
}

// Adds newly fetched samples to those held, keeping the last TREND_WINDOW_USEC (oldest first).
export function mergeSamples(held: readonly TrendSample[], fresh: readonly TrendSample[], nowUsec: number): TrendSample[] {
  const last = held.length > 0 ? held[held.length - 1]![0] : -Infinity;
  const start = nowUsec - TREND_WINDOW_USEC;
  return [...held, ...fresh.filter(([time]) => time > last)].filter(([time]) => time >= start);
}
