// The trend's ring buffer and store, with a fake clock and synthetic unit views (no /proc): what
// is kept, for how long, what a program that was down leaves (a gap), and what it all costs.
import { describe, expect, it } from "vitest";

import type { UnitView } from "../../daemon/engine/unit.js";
import { HistoryRing, BYTES_PER_SAMPLE } from "../../daemon/history/ring.js";
import { HISTORY_MS, HistoryStore, MIN_SPACING_MS, SAMPLES_PER_PROGRAM } from "../../daemon/history/store.js";
import { FakeClock, unitView } from "../helpers/fakes.js";

const MB = 1024 * 1024;

function unit(name: string, pid: number, cpuPercent: number, rssBytes: number): UnitView {
  return unitView(name, { pid, state: pid > 0 ? "running" : "crashed", cpuPercent, rssBytes, managed: true });
}

// A source whose units the test sets, and whose scans the test makes: like the engine, a scan hands its
// observers the units as it left them; list() is what a caller outside a scan would see.
function scripted() {
  let units: UnitView[] = [];
  const observers = new Set<(snapshot: unknown, views: readonly UnitView[]) => void>();
  return {
    set: (next: UnitView[]) => void (units = next),
    list: () => units,
    onScan: (observer: (snapshot: unknown, views: readonly UnitView[]) => void) => (observers.add(observer), () => observers.delete(observer)),
    scan: () => observers.forEach((observer) => observer(null, units)),
  };
}

describe("HistoryRing", () => {
  it("keeps the newest samples, oldest first, overwriting the oldest once full", () => {
    const ring = new HistoryRing(3);
    for (let i = 1; i <= 5; i++) ring.push(i * 1000, i, i * MB);
    expect(ring.size).toBe(3);
    expect(ring.since(0)).toEqual([
      [3000, 3, 3 * MB],
      [4000, 4, 4 * MB],
      [5000, 5, 5 * MB],
    ]);
    expect(ring.since(4000).map(([time]) => time)).toEqual([4000, 5000]);
    expect(ring.byteLength).toBe(3 * BYTES_PER_SAMPLE);
  });

  it("holds resident memory to the KiB, a non-finite CPU figure as 0", () => {
    const ring = new HistoryRing(2);
    ring.push(1, Number.NaN, 1536 + 100);
    expect(ring.since(0)).toEqual([[1, 0, 2048]]);
  });

  it("refuses a capacity below one", () => {
    expect(() => new HistoryRing(0)).toThrow(/at least one sample/);
  });
});

describe("HistoryStore", () => {
  it("records every running program at every scan, leaves a gap while one is down, and drops a removed policy's ring", () => {
    const clock = new FakeClock(1_000_000);
    const source = scripted();
    const store = new HistoryStore(source, clock);
    store.start();
    source.set([unit("a", 10, 5, 100 * MB), unit("b", 11, 1, 10 * MB)]);
    source.scan();
    clock.advance(1000);
    source.set([unit("a", 0, 0, 0), unit("b", 11, 2, 11 * MB)]);
    source.scan();
    clock.advance(1000);
    source.set([unit("a", 12, 7, 50 * MB), unit("b", 11, 3, 12 * MB)]);
    source.scan();
    expect(store.history("a", 0)).toEqual([
      [1_000_000, 5, 100 * MB],
      [1_002_000, 7, 50 * MB],
    ]);
    expect(store.history("b", 1_001_000).map(([time]) => time)).toEqual([1_001_000, 1_002_000]);
    source.set([unit("a", 12, 7, 50 * MB)]);
    source.scan();
    expect(store.history("b", 0)).toEqual([]);
    store.stop();
  });

  it("drops a removed policy's ring when the policy added in its place is not running", () => {
    const clock = new FakeClock(0);
    const source = scripted();
    const store = new HistoryStore(source, clock);
    store.start();
    source.set([unit("a", 10, 5, MB)]);
    source.scan();
    clock.advance(1000);
    source.set([unit("b", 0, 0, 0)]);
    source.scan();
    expect(store.history("a", 0)).toEqual([]);
    expect(store.history("b", 0)).toEqual([]);
    store.stop();
  });

  it("records the units the scan hands it, not a list taken again", () => {
    const clock = new FakeClock(0);
    const source = scripted();
    const store = new HistoryStore({ list: () => [], onScan: source.onScan }, clock);
    store.start();
    source.set([unit("a", 10, 5, MB)]);
    source.scan();
    expect(store.history("a", 0)).toEqual([[0, 5, MB]]);
    store.stop();
  });

  it("keeps 10 minutes, one sample per 250 ms at most, however fast the scans", () => {
    const clock = new FakeClock(0);
    const source = scripted();
    const store = new HistoryStore(source, clock);
    store.start();
    source.set([unit("fast", 1, 1, MB)]);
    // 20 minutes of scans every 100 ms.
    for (let t = 0; t < 2 * HISTORY_MS; t += 100) {
      source.scan();
      clock.advance(100);
    }
    const samples = store.history("fast", 0);
    expect(samples.length).toBeGreaterThanOrEqual(SAMPLES_PER_PROGRAM - 1);
    expect(samples.length).toBeLessThanOrEqual(SAMPLES_PER_PROGRAM);
    expect(samples[0]![0]).toBeGreaterThanOrEqual(clock.now() - HISTORY_MS);
    const slots = samples.map(([time]) => Math.floor(time / MIN_SPACING_MS));
    expect(new Set(slots).size).toBe(samples.length);
  });

  it("costs at most 2 MB for 50 programs", () => {
    const clock = new FakeClock(0);
    const source = scripted();
    const store = new HistoryStore(source, clock);
    source.set(Array.from({ length: 50 }, (_, i) => unit(`p${i}`, 100 + i, 1, MB)));
    store.record(0);
    const before = process.memoryUsage().arrayBuffers;
    expect(store.byteLength).toBe(50 * SAMPLES_PER_PROGRAM * BYTES_PER_SAMPLE);
    expect(store.byteLength).toBeLessThanOrEqual(2 * 1000 * 1000);
    console.log(`history of 50 programs: ${store.byteLength} bytes of samples (${SAMPLES_PER_PROGRAM} per program); arrayBuffers now ${before} bytes in this process`);
  });
});
