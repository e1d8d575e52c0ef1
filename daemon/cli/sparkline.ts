// A program's trend as text: one line of block characters per figure, each column the mean of
// the samples in its slice of time, a blank where the program was not running.

const BLOCKS = "▁▂▃▄▅▆▇█";
/** Columns of a text sparkline. */
export const SPARKLINE_WIDTH = 60;

/** One GetHistory sample: time in microseconds, CPU percent, resident bytes. */
export type HistorySample = [timeUsec: number, cpuPercent: number, rssBytes: number];

// Means of `value` per column over the samples' time span; null for a column without a sample.
export function columns(samples: readonly HistorySample[], value: (sample: HistorySample) => number, width = SPARKLINE_WIDTH): Array<number | null> {
  if (samples.length === 0) return [];
  const first = samples[0]![0];
  const span = samples[samples.length - 1]![0] - first;
  const count = Math.min(width, samples.length);
  const sums = new Array<number>(count).fill(0);
  const ns = new Array<number>(count).fill(0);
  for (const sample of samples) {
    const at = span === 0 ? 0 : Math.min(count - 1, Math.floor(((sample[0] - first) / span) * count));
    sums[at]! += value(sample);
    ns[at]! += 1;
  }
  return sums.map((sum, i) => (ns[i]! === 0 ? null : sum / ns[i]!));
}

// The columns as blocks scaled between their lowest and highest value (a flat line: the lowest block).
export function sparkline(values: ReadonlyArray<number | null>): string {
  const present = values.filter((value): value is number => value !== null);
  if (present.length === 0) return "";
  const low = Math.min(...present);
  const high = Math.max(...present);
  return values
    .map((value) => {
      if (value === null) return " ";
      const level = high === low ? 0 : Math.round(((value - low) / (high - low)) * (BLOCKS.length - 1));
      return BLOCKS[level];
    })
    .join("");
}
