// Runs every benchmark in turn and prints its figures.

import { benchScan } from "./scan.js";

/** The benchmarks, run one after another in this order. */
const BENCHMARKS: Array<() => Promise<void>> = [benchScan];

for (const bench of BENCHMARKS) await bench();
