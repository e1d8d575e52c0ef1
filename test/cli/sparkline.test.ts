// The text sparkline of `selfheal status NAME --history`: columns over the time span, scaling
// between the lowest and highest value, and a blank where the program was not running.
import { describe, expect, it } from "vitest";

import { columns, sparkline, type HistorySample } from "../../daemon/cli/sparkline.js";

const sample = (seconds: number, rss: number): HistorySample => [seconds * 1_000_000, 0, rss];

describe("text sparkline", () => {
  it("scales from the lowest block to the highest", () => {
    const samples = [1, 2, 3, 4, 5, 6, 7, 8].map((value, i) => sample(i, value));
    expect(sparkline(columns(samples, (s) => s[2], 8))).toBe("▁▂▃▄▅▆▇█");
  });

  it("shows a flat trend as the lowest blocks, and nothing for no samples", () => {
    expect(sparkline(columns([sample(0, 5), sample(1, 5), sample(2, 5)], (s) => s[2], 3))).toBe("▁▁▁");
    expect(sparkline(columns([], (s) => s[2]))).toBe("");
  });

  it("leaves a blank where no sample fell: the program was down", () => {
    // Samples at 0-3 s and 8-9 s of 10 columns over 9 s: columns 4 to 7 hold none.
    const samples = [0, 1, 2, 3, 8, 9].map((second) => sample(second, 100));
    const line = sparkline(columns(samples, (s) => s[2], 10));
    expect(line).toHaveLength(6);
    expect(line.includes(" ")).toBe(true);
  });

  it("averages the samples of a column", () => {
    const samples = [sample(0, 0), sample(0.1, 10), sample(1, 20)];
    expect(columns(samples, (s) => s[2], 2)).toEqual([5, 20]);
  });
});
