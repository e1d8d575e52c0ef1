// The rendering the endpoint and the textfile serve: the same text as
// prom-client's registry.metrics(), in both formats, with each of selfheal's
// metrics formatted again only when its series changed.
import { afterEach, describe, expect, it, vi } from "vitest";

import { Registry, type RegistryContentType } from "prom-client";
import { buildRegistry } from "../../daemon/metrics/registry.js";
import { MetricsTally } from "../../daemon/metrics/tally.js";
import { TestSource, view } from "./testSource.js";

const MB = 1024 * 1024;

afterEach(() => vi.restoreAllMocks());

// prom-client's process and Node.js figures move between two renders: left out of the comparison.
function withoutDefaultMetrics(text: string): string {
  return text
    .split("\n")
    .filter((line) => !/^(# (HELP|TYPE) )?selfheal_(process|nodejs)_/.test(line))
    .join("\n");
}

function fiftyPrograms(): TestSource {
  const source = new TestSource();
  source.views = Array.from({ length: 50 }, (_, i) => view(`program${i}`, { pid: 1000 + i, state: "running", cpuLimit: 90, memoryLimitBytes: 500 * MB, rssBytes: 10 * MB }));
  return source;
}

describe.each([
  ["the text format", Registry.PROMETHEUS_CONTENT_TYPE],
  ["OpenMetrics", Registry.OPENMETRICS_CONTENT_TYPE],
] as Array<[string, RegistryContentType]>)("the metrics' rendering, %s", (_, contentType) => {
  it("is prom-client's own text, before and after the figures change", async () => {
    const source = fiftyPrograms();
    const tally = new MetricsTally(100);
    const built = buildRegistry(contentType, source, tally);
    built.observeScan(0.002);
    const first = await built.metrics();
    expect(withoutDefaultMetrics(first)).toBe(withoutDefaultMetrics(await built.registry.metrics()));
    source.views = source.views.map((unit, i) => (i === 7 ? { ...unit, rssBytes: 99 * MB, state: "backoff", pid: 0 } : unit));
    source.zombies = 3;
    tally.observe({ kind: "crashed", timeMs: 0, message: "", name: "program7", pid: 1007, exitCode: null, signal: "SIGSEGV", statusKnown: true, willRestart: true }, new Set(["program7"]));
    const second = await built.metrics();
    expect(second).not.toBe(first);
    expect(second).toContain('selfheal_state{name="program7",state="backoff"} 1');
    expect(second).toContain('selfheal_crashes_total{name="program7",signal="SIGSEGV"} 1');
    expect(withoutDefaultMetrics(second)).toBe(withoutDefaultMetrics(await built.registry.metrics()));
    if (contentType === Registry.OPENMETRICS_CONTENT_TYPE) expect(second.endsWith("# EOF\n")).toBe(true);
  });

  it("formats the per-program metrics again when only a program's app or the programs' order changed", async () => {
    const source = fiftyPrograms();
    const built = buildRegistry(contentType, source, new MetricsTally(100));
    await built.metrics();
    source.apps.set("program4", "org.gnome.TextEditor");
    const withApp = await built.metrics();
    expect(withApp).toContain('selfheal_resident_memory_bytes{name="program4",app="org.gnome.TextEditor"}');
    expect(withApp).toContain('selfheal_state{name="program4",app="org.gnome.TextEditor",state="running"} 1');
    source.views = [...source.views].reverse();
    expect(withoutDefaultMetrics(await built.metrics())).toBe(withoutDefaultMetrics(await built.registry.metrics()));
  });

  it("formats a metric again only when it changed, and serves the same bytes while none did", async () => {
    const source = fiftyPrograms();
    const built = buildRegistry(contentType, source, new MetricsTally(100));
    const first = await built.bytes();
    const formatted = vi.spyOn(built.registry, "getSingleMetricAsString");
    const ours = (calls: unknown[][]) => calls.map(([name]) => String(name)).filter((name) => !/^selfheal_(process|nodejs)_/.test(name));
    // Unchanged: nothing formatted, not even the scan duration histogram, and the very same body.
    expect(await built.bytes()).toBe(first);
    expect(ours(formatted.mock.calls)).toEqual([]);
    built.observeScan(0.002);
    const scanned = await built.bytes();
    expect(ours(formatted.mock.calls)).toEqual(["selfheal_scan_duration_seconds"]);
    expect(scanned).not.toBe(first);
    expect(scanned.toString()).toMatch(/^selfheal_scan_duration_seconds_count 1$/m);
    formatted.mockClear();
    source.views = source.views.map((unit, i) => (i === 3 ? { ...unit, rssBytes: 12 * MB } : unit));
    const text = await built.metrics();
    expect(ours(formatted.mock.calls)).toEqual(["selfheal_resident_memory_bytes"]);
    expect(text).toContain(`selfheal_resident_memory_bytes{name="program3"} ${12 * MB}`);
  });
});

describe("prom-client's process and heap figures", () => {
  // Reading /proc/self/status, process.memoryUsage() and process.cpuUsage() was two thirds of a render once selfheal's own metrics were cached.
  it("are read at most once per refresh period, and every render still carries them", async () => {
    const fs = await import("node:fs");
    const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, fiftyPrograms(), new MetricsTally(100));
    const readFile = vi.spyOn(fs.default, "readFileSync");
    const memoryUsage = vi.spyOn(process, "memoryUsage");
    const cpuUsage = vi.spyOn(process, "cpuUsage");
    for (let i = 0; i < 4; i++) {
      const text = await built.metrics();
      expect(text).toMatch(/^selfheal_process_resident_memory_bytes \d+$/m);
      expect(text).toMatch(/^selfheal_nodejs_heap_size_used_bytes \d+$/m);
      expect(text).toMatch(/^selfheal_process_cpu_seconds_total [\d.e-]+$/m);
    }
    expect(readFile.mock.calls.filter(([path]) => path === "/proc/self/status")).toHaveLength(1);
    expect(memoryUsage).toHaveBeenCalledTimes(1);
    expect(cpuUsage).toHaveBeenCalledTimes(1);
  });
});

describe("prom-client's open file descriptors", () => {
  // The daemon holds a stat file open per process: /proc/self/fd lists hundreds, and reading it was a third of a scrape.
  it("are counted at most once per refresh period, not at every scrape", async () => {
    const fs = await import("node:fs");
    const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, fiftyPrograms(), new MetricsTally(100));
    const readdir = vi.spyOn(fs.default, "readdirSync");
    const fdReads = () => readdir.mock.calls.filter(([path]) => path === "/proc/self/fd").length;
    for (let i = 0; i < 4; i++) expect(await built.metrics()).toMatch(/^selfheal_process_open_fds \d+$/m);
    expect(fdReads()).toBe(1);
  });
});

describe("prom-client's default metrics that are left out", () => {
  // prom-client samples the event loop's delay with a timer (10 wake-ups a second at selfheal's precision) and
  // observes every garbage collection, for figures that are not exported: neither is started.
  it("start no event loop delay monitor and no garbage collection observer", async () => {
    const perfHooks = (await import("node:perf_hooks")).default;
    const monitor = vi.spyOn(perfHooks, "monitorEventLoopDelay");
    const observe = vi.spyOn(perfHooks.PerformanceObserver.prototype, "observe");
    const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, fiftyPrograms(), new MetricsTally(100));
    expect(await built.metrics()).toMatch(/^selfheal_process_cpu_seconds_total /m);
    expect(monitor).not.toHaveBeenCalled();
    expect(observe).not.toHaveBeenCalled();
  });
});
