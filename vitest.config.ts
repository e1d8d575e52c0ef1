import { defineConfig } from "vitest/config";

import { LongestFirst } from "./test/setup/longestFirst.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "extension/**/*.test.ts"],
    // Any unhandled rejection or uncaught exception fails the test during which it happened.
    setupFiles: ["test/setup/failOnUnhandled.ts"],
    // Integration tests start real processes and buses: give them room on a loaded 2-core machine
    // (a deadline for a test that hangs, not a budget: several waits of up to 45 s each fit).
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Files run in parallel forks; each starts its own private dbus-daemon where it needs one.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2 } },
    // A fork runs file after file instead of a new process per file: starting a fork and importing the
    // test's modules again cost ~1-2 s a file, ~130 fork-seconds over the suite on this 2-core machine.
    // So module state outlives a file: a test never relies on a fresh process (test/metrics/lazy.test.ts
    // starts one of its own), and the setup file adds its listeners once per process.
    isolate: false,
    // The longest files start first, on a fresh clone too (test/setup/longestFirst.ts).
    sequence: { sequencer: LongestFirst },
  },
});
