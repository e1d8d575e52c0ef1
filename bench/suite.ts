// The test suite's wall time (`vitest run`, everything), with the load
// average before and after: on a shared machine the load says as much as the time.
import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";

const REPO = resolve(import.meta.dirname, "..");

export async function benchSuite(): Promise<void> {
  const load = (): string => loadavg().map((value) => value.toFixed(2)).join(", ");
  const before = load();
  const start = performance.now();
  const result = spawnSync("npx", ["vitest", "run"], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
  const seconds = (performance.now() - start) / 1000;
  console.log(`\nthe test suite (vitest run): ${seconds.toFixed(1)} s wall, exit status ${result.status}; load average before ${before}, after ${load()}`);
}

if (import.meta.filename === process.argv[1]) await benchSuite();
