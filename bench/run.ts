// Runs every benchmark in turn and prints its figures.

import { benchEngine } from "./engine.js";
import { benchEventLog } from "./eventLog.js";
import { benchKeeper } from "./keeper.js";
import { benchScan } from "./scan.js";

/** The benchmarks, run one after another in this order. */
const BENCHMARKS: Array<() => Promise<void>> = [benchScan, benchEngine, benchKeeper, benchEventLog];

for (const bench of BENCHMARKS) await bench();
await (await import("./match.js")).benchMatch();
await (await import("./bus.js")).benchBus();
await (await import("./anomaly.js")).benchAnomaly();
await (await import("./metrics.js")).benchMetrics();
await (await import("./idle.js")).benchIdle();
await (await import("./scanPhases.js")).benchScanPhases();
await (await import("./floor.js")).benchFloor();
await (await import("./modules.js")).benchModules();
await (await import("./suite.js")).benchSuite();
await (await import("./sentinels.js")).benchSentinels();
await (await import("./shellMenu.js")).benchShellMenu();
await (await import("./setPolicy.js")).benchSetPolicy();
