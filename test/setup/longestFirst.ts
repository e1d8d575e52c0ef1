// The order the test files start in (vitest.config.ts, sequence.sequencer):
// the longest first, so that no fork is left with a long file at the end
// while the other sits idle. vitest orders by the durations of its last run
// on this machine (kept under node_modules/.vite); without them, on a fresh
// clone or in CI, it orders by file size, which started the shortest file of
// all (the GNOME Shell end-to-end tests, ~2.5 minutes each) last, after everything
// else. Files vitest has no duration for take the one measured here (a whole
// `vitest run` on a 2-core machine), or none: then size decides, as before.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Seconds each file took in a whole run on a 2-core machine (the longest only). */
const MEASURED_SEC: Record<string, number> = {
  // One file per shell since both run at once (alone, side by side: 160 s and 151 s); before, the
  // one file of both took 219 s.
  "test/extension/shell48.e2e.test.ts": 160,
  "test/extension/shell43.e2e.test.ts": 151,
  "test/engine/forkaway.integration.test.ts": 39,
  "test/anomaly/anomaly.integration.test.ts": 32,
  "test/keeper/survive.integration.test.ts": 26,
  "test/safety/neverHarm.integration.test.ts": 23,
  "test/engine/daemon.integration.test.ts": 23,
  "test/zombies/announce.integration.test.ts": 19,
  "test/install/distributionNode.e2e.test.ts": 19,
  "test/cli/client.test.ts": 18,
  "test/extension/watchApp.e2e.test.ts": 14,
  "test/sentinel/daemon.integration.test.ts": 13,
  "test/install/withoutSystemd.test.ts": 12,
  "test/zombies/zombies.integration.test.ts": 12,
  "test/state/killDuringWrites.test.ts": 12,
  "test/zombies/endParent.integration.test.ts": 12,
  "test/metrics/prometheus.integration.test.ts": 10,
  "test/install/systemd.e2e.test.ts": 8,
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (file: TestSpecification) => `${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`;
    const cached = (file: TestSpecification) => this.ctx.cache.getFileTestResults(key(file));
    // vitest's own order when it knows every file (a file that failed last time first, then the longest).
    if (files.every((file) => cached(file) !== undefined)) return super.sort(files);
    const estimate = (file: TestSpecification) => {
      const last = cached(file);
      if (last !== undefined) return { failed: last.failed, ms: last.duration };
      return { failed: false, ms: (MEASURED_SEC[relative(this.ctx.config.root, file.moduleId)] ?? 0) * 1000 };
    };
    const size = (file: TestSpecification) => this.ctx.cache.getFileStats(key(file))?.size ?? 0;
    return [...files].sort((a, b) => {
      const [ea, eb] = [estimate(a), estimate(b)];
      if (ea.failed !== eb.failed) return ea.failed ? -1 : 1;
      return eb.ms - ea.ms || size(b) - size(a);
    });
  }
}
