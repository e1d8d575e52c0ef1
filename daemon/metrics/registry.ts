// A prom-client registry of every metric in the catalog, each read when
// scraped (collect) from the source and the tally: the last scan's figures,
// never a new scan. One registry per exposition format, because prom-client
// renames a counter it renders as OpenMetrics for good (it drops `_total` from
// the metric's name), which would break the other format's output.
import type { UnitView } from "../engine/unit.js";
import type { MetricsSource } from "./source.js";
import type { MetricsTally } from "./tally.js";

import { performance } from "node:perf_hooks";

import { Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";
import heapSizeAndUsed from "prom-client/lib/metrics/heapSizeAndUsed.js";
import osMemoryHeap from "prom-client/lib/metrics/osMemoryHeap.js";
import processCpuTotal from "prom-client/lib/metrics/processCpuTotal.js";
import processMaxFileDescriptors from "prom-client/lib/metrics/processMaxFileDescriptors.js";
import processOpenFileDescriptors from "prom-client/lib/metrics/processOpenFileDescriptors.js";
import processStartTime from "prom-client/lib/metrics/processStartTime.js";
import nodeVersion from "prom-client/lib/metrics/version.js";

import { CachingRender, type OwnMetric, type Series } from "./render.js";
import { DEFAULT_METRICS_PREFIX, METRICS, SCAN_DURATION_BUCKETS, UNIT_STATES, type MetricSpec } from "./catalog.js";

/**
 * Of prom-client's default metrics, those registered: the process's own (CPU, memory, file descriptors,
 * start time), the V8 heap's size and Node.js's version, each from prom-client's own module. The others
 * (event loop lag, heap spaces, GC, active handles) cost about 1 ms of CPU per scrape on the development
 * machine, a quarter of the whole, for figures of Node.js internals; three of them are gauges named like
 * counters, which promtool's lint refuses; and they are not only left out of the exposition:
 * collectDefaultMetrics() would still sample the event loop's delay with a timer (10 wake-ups a second)
 * and observe every garbage collection.
 */
const DEFAULT_METRICS: ReadonlyArray<(registry: Registry<RegistryContentType>, config: { prefix: string }) => void> = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  heapSizeAndUsed,
  nodeVersion,
];

/**
 * prom-client's process and heap figures are read (and formatted) at most this often; each scrape in
 * between serves the last reading. Reading them (/proc/self/status, process.memoryUsage(),
 * process.cpuUsage()) was two thirds of rendering a scrape once selfheal's own metrics were cached. A
 * Prometheus scraping every 15 s or more reads them fresh each time; at a 1 s interval, CPU and memory
 * figures 5 s old at most are plenty for rate() over a minute.
 */
export const PROCESS_METRICS_REFRESH_MS = 5_000;

/**
 * prom-client counts open file descriptors by listing /proc/self/fd. The daemon holds a stat file open
 * per process (proc/scan.ts), so the list has hundreds of entries: about 1 ms of CPU, a third of a
 * scrape. The count is read again at most this often instead (the figure moves slowly).
 */
const OPEN_FDS_REFRESH_MS = 10_000;

// A changed() for render.ts that says yes at most once per periodMs (and at the first call): the metric's
// collect (the reading) runs only when it is formatted again.
function atMostEvery(periodMs: number): () => boolean {
  let lastMs = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - lastMs < periodMs) return false;
    lastMs = now;
    return true;
  };
}

export interface BuiltRegistry {
  registry: Registry<RegistryContentType>;
  /** The exposition's bytes, as registry.metrics() renders it, each metric formatted again only when it changed. */
  bytes(): Promise<Buffer>;
  /** The same as text. */
  metrics(): Promise<string>;
  /** One scan's duration, for the histogram (the only metric not read at scrape time). */
  observeScan(durationSec: number): void;
}


// A reading shared by every metric of one scrape: prom-client starts every collect() in the same
// synchronous pass, so the value is kept until the microtasks that follow it.
function oncePerScrape<T>(read: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (cached === null) {
      cached = { value: read() };
      queueMicrotask(() => (cached = null));
    }
    return cached.value;
  };
}

// A metric's options from its row of the catalog.
function optionsOf(spec: MetricSpec, registry: Registry<RegistryContentType>) {
  return { name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
}

// Note a catalog metric's series (and key) for the rendering; given as a function, its series alone.
function ownMetric(own: Map<string, OwnMetric>, spec: MetricSpec, metric: OwnMetric | (() => Iterable<Series>)): OwnMetric {
  const entry = typeof metric === "function" ? { series: metric } : metric;
  own.set(spec.name, entry);
  return entry;
}

// A gauge set from the figures at each scrape; its series are also readable on their own (render.ts).
function gauge(spec: MetricSpec, registry: Registry<RegistryContentType>, own: Map<string, OwnMetric>, metric: OwnMetric | (() => Iterable<Series>)): void {
  const { series } = ownMetric(own, spec, metric);
  new Gauge({
    ...optionsOf(spec, registry),
    collect() {
      this.reset();
      for (const [labels, value] of series()) this.set(labels, value);
    },
  });
}

// A counter whose totals are kept elsewhere (the engine's views, the tally): set from them at each scrape.
function counter(spec: MetricSpec, registry: Registry<RegistryContentType>, own: Map<string, OwnMetric>, metric: OwnMetric | (() => Iterable<Series>)): void {
  const { series } = ownMetric(own, spec, metric);
  new Counter({
    ...optionsOf(spec, registry),
    collect() {
      this.reset();
      for (const [labels, value] of series()) this.inc(labels, value);
    },
  });
}

// Every (labels, count) of a count by policy name and one more label; `named` gives a policy's own labels.
function* flatten(counts: Map<string, Map<string, number>>, named: (name: string) => Record<string, string>, inner: string): Iterable<[Record<string, string>, number]> {
  for (const [name, row] of counts) for (const [b, value] of row) yield [{ ...named(name), [inner]: b }, value];
}

export function buildRegistry(contentType: RegistryContentType, source: MetricsSource, tally: MetricsTally): BuiltRegistry {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const units = oncePerScrape(() => source.units());
  const nowMs = () => Date.now();

  const own = new Map<string, OwnMetric>();
  // A policy's labels: its name, and the desktop app it watches where it has one.
  const named = (name: string): Record<string, string> => {
    const app = source.appOf(name);
    return app === null ? { name } : { name, app };
  };
  // Which programs the per-program series are of: a number that changes whenever their names, apps or order do.
  let programNames: string[] = [];
  let programApps: Array<string | null> = [];
  let programsVersion = 0;
  const programs = oncePerScrape(() => {
    const list = units();
    let same = list.length === programNames.length;
    for (let i = 0; same && i < list.length; i++) same = list[i]!.name === programNames[i] && source.appOf(list[i]!.name) === programApps[i];
    if (!same) {
      programNames = list.map((u) => u.name);
      programApps = list.map((u) => source.appOf(u.name));
      programsVersion++;
    }
    return programsVersion;
  });
  // Whether a figure per program changed since the last call: the programs, then each figure, compared in place.
  const figureChanged = (value: (u: UnitView) => number | null): (() => boolean) => {
    let seenVersion = -1;
    const seen: Array<number | null> = [];
    return () => {
      const version = programs();
      const list = units();
      let changed = version !== seenVersion || list.length !== seen.length;
      for (let i = 0; i < list.length; i++) {
        const v = value(list[i]!);
        if (!Object.is(v, seen[i])) {
          changed = true;
          seen[i] = v;
        }
      }
      seen.length = list.length;
      seenVersion = version;
      return changed;
    };
  };
  // One series a program (none where value gives null).
  const perUnit = (value: (u: UnitView) => number | null): OwnMetric => ({
    series: () =>
      units().flatMap((u): Series[] => {
        const v = value(u);
        return v === null ? [] : [[named(u.name), v]];
      }),
    changed: figureChanged(value),
  });
  const single = (value: () => number, labels: Record<string, string> = {}) => (): Series[] => [[labels, value()]];
  gauge(METRICS.up, registry, own, perUnit((u) => (u.pid === 0 ? 0 : 1)));
  gauge(METRICS.state, registry, own, {
    series: () => units().flatMap((u) => UNIT_STATES.map((state): Series => [{ ...named(u.name), state }, u.state === state ? 1 : 0])),
    changed: figureChanged((u) => UNIT_STATES.indexOf(u.state)),
  });
  counter(METRICS.restarts, registry, own, perUnit((u) => u.restarts));
  counter(METRICS.crashes, registry, own, () => flatten(tally.crashes, named, "signal"));
  counter(METRICS.cpuSeconds, registry, own, perUnit((u) => tally.cpuSeconds(u.name)));
  gauge(METRICS.cpuPercent, registry, own, perUnit((u) => u.cpuPercent));
  gauge(METRICS.residentBytes, registry, own, perUnit((u) => u.rssBytes));
  gauge(METRICS.memoryLimitBytes, registry, own, perUnit((u) => u.memoryLimitBytes));
  gauge(METRICS.cpuLimitPercent, registry, own, perUnit((u) => u.cpuLimit));
  gauge(METRICS.cooldownActive, registry, own, perUnit((u) => (u.cooldownUntilMs > nowMs() ? 1 : 0)));
  gauge(METRICS.cooldownRemaining, registry, own, perUnit((u) => Math.max(0, u.cooldownRemainingSec)));
  counter(METRICS.anomalies, registry, own, () => flatten(tally.anomalies, named, "kind"));
  gauge(METRICS.policies, registry, own, single(() => units().length));
  gauge(METRICS.zombies, registry, own, single(() => source.zombieCount()));
  counter(METRICS.zombiesReaped, registry, own, single(() => tally.zombiesReaped));
  counter(METRICS.notificationsSent, registry, own, () => source.notifications().map((n): Series => [{ channel: n.channel }, n.sent]));
  counter(METRICS.notificationsSuppressed, registry, own, () => source.notifications().map((n): Series => [{ channel: n.channel }, n.suppressed]));
  const scans = new Histogram({ ...optionsOf(METRICS.scanDuration, registry), buckets: SCAN_DURATION_BUCKETS });
  // The histogram is prom-client's own: it changed when a scan was observed since it was last formatted.
  let scansObserved = 0;
  let scansFormatted = -1;
  const changed = new Map<string, () => boolean>([[METRICS.scanDuration.name, () => scansFormatted !== (scansFormatted = scansObserved)]]);
  gauge(METRICS.processesScanned, registry, own, single(() => tally.processesScanned));
  counter(METRICS.busCalls, registry, own, () => [...source.busCalls()].map(([method, calls]): Series => [{ method }, calls]));
  counter(METRICS.eventLogWriteErrors, registry, own, single(() => source.eventLogWriteErrors()));
  gauge(METRICS.buildInfo, registry, own, single(() => 1, { version: source.version }));
  const before = new Set(registry.getMetricsAsArray().map((metric) => metric.name));
  for (const register of DEFAULT_METRICS) register(registry, { prefix: DEFAULT_METRICS_PREFIX });
  // One answer for all of them in a render: some are set by another's collect (the heap's three by the first).
  const processFiguresDue = oncePerScrape(atMostEvery(PROCESS_METRICS_REFRESH_MS));
  const openFdsDue = atMostEvery(OPEN_FDS_REFRESH_MS);
  const openFdsName = `${DEFAULT_METRICS_PREFIX}process_open_fds`;
  for (const { name } of registry.getMetricsAsArray()) if (!before.has(name)) changed.set(name, name === openFdsName ? openFdsDue : processFiguresDue);

  const render = new CachingRender(registry, own, changed);
  return {
    registry,
    bytes: () => render.bytes(),
    metrics: () => render.metrics(),
    observeScan: (durationSec) => {
      scans.observe(durationSec);
      scansObserved++;
    },
  };
}
