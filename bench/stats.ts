// Summary statistics for benchmark timings, shared by every benchmark.

export interface Summary {
  count: number;
  min: number;
  median: number;
  p95: number;
  mean: number;
}

// The p-th percentile (0..100) of values, interpolating linearly between the nearest ranks.
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error(`percentile needs at least one value, got an empty list`);
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile p must be within 0..100, got ${p} (${typeof p})`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

// Count, min, median, 95th percentile and mean of values.
export function summarize(values: readonly number[]): Summary {
  return {
    count: values.length,
    min: Math.min(...values),
    median: percentile(values, 50),
    p95: percentile(values, 95),
    mean: values.reduce((sum, v) => sum + v, 0) / values.length,
  };
}
