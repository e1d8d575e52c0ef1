// The event history's figures: what one GetEvents call costs the daemon
// (EventLog.read) when the log is full, both files at their size limit, for
// the calls clients make: the last screenful (the CLI's default), the events
// of the last minute, and everything.
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { EngineEvent } from "../daemon/engine/events.js";
import { EVENT_LOG_MAX_BYTES, EventLog } from "../daemon/state/eventLog.js";
import { makeTestDir } from "../test/helpers/daemon.js";
import { printTable } from "./scan.js";

const WARMUP_CALLS = 5;
const MEASURED_CALLS = 50;
/** The CLI's `selfheal events` default. */
const SCREENFUL = 20;
const MS_PER_MINUTE = 60_000;
/** Events a second apart on the made-up timeline. */
const EVENT_SPACING_MS = 1000;

export async function benchEventLog(): Promise<void> {
  const dir = makeTestDir("bench-events");
  try {
    const path = join(dir, "events.jsonl");
    const log = new EventLog(path);
    // Fill both files (the current one and the rotated .1) to the limit.
    const startMs = Date.now() - 10 * 24 * 3600 * 1000;
    let count = 0;
    let rotations = 0;
    let previousSize = 0;
    const fileSize = (): number => statSync(path).size;
    while (rotations < 2) {
      log.append(sampleEvent(startMs + count * EVENT_SPACING_MS, count));
      count += 1;
      if (fileSize() < previousSize) rotations += 1;
      previousSize = fileSize();
    }
    // Just under the limit again after the second rotation.
    while (fileSize() + 400 < EVENT_LOG_MAX_BYTES) log.append(sampleEvent(startMs + count * EVENT_SPACING_MS, count++));
    const lastMs = startMs + (count - 1) * EVENT_SPACING_MS;
    const reader = new EventLog(path);
    const time = (read: () => EngineEvent[]): number[] => {
      for (let i = 0; i < WARMUP_CALLS; i++) read();
      const times: number[] = [];
      for (let i = 0; i < MEASURED_CALLS; i++) {
        const start = performance.now();
        read();
        times.push(performance.now() - start);
      }
      return times;
    };
    const all = reader.read(0, 0).length;
    console.log(`\nEvent log: GetEvents' read of a full log (2 × ${EVENT_LOG_MAX_BYTES / 1024} KiB, ${all} events), by a daemon that started on it`);
    printTable([
      [`last ${SCREENFUL} (limit ${SCREENFUL})`, time(() => reader.read(0, SCREENFUL))],
      ["since a minute ago", time(() => reader.read(lastMs - MS_PER_MINUTE, 0))],
      ["all (limit 0)", time(() => reader.read(0, 0))],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A crash event like the engine's, of a typical size.
function sampleEvent(timeMs: number, n: number): EngineEvent {
  const name = `program${n % 7}`;
  return {
    kind: "crashed",
    timeMs,
    name,
    pid: 10_000 + n,
    exitCode: null,
    signal: "SIGSEGV",
    statusKnown: true,
    willRestart: true,
    message: `${name} (PID ${10_000 + n}) was killed by SIGSEGV, a crash; restarting`,
  };
}
