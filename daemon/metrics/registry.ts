// A prom-client registry of every metric in the catalog, each read when
// scraped (collect) from the source and the tally: the last scan's figures,
// never a new scan. One registry per exposition format, because prom-client
// renames a counter it renders as OpenMetrics for good (it drops `_total` from
// the metric's name), which would break the other format's output.
import type { MetricsSource } from "./source.js";
import type { MetricsTally } from "./tally.js";

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type RegistryContentType } from "prom-client";

import { DEFAULT_METRICS_PREFIX, METRICS, SCAN_DURATION_BUCKETS, UNIT_STATES, type MetricSpec } from "./catalog.js";

/** prom-client's event loop delay sampling, milliseconds: its default (10) wakes the daemon 100 times a second. */
const EVENT_LOOP_PRECISION_MS = 100;

/**
 * Of prom-client's default metrics, those kept: the process's own (CPU, memory, file descriptors, start
 * time) and the V8 heap's size. The others (event loop lag percentiles, heap spaces, GC histogram, active
 * handles by type) cost about 1 ms of CPU per scrape on the development machine, a quarter of the whole,
 * for figures of Node.js internals; and three of them are gauges named like counters, which promtool's
 * lint refuses.
 */
const KEPT_DEFAULT_METRICS = /^(process_|nodejs_version_info$|nodejs_heap_size_|nodejs_external_memory_bytes$)/;

export interface BuiltRegistry {
  registry: Registry<RegistryContentType>;
  /** One scan's duration, for the histogram (the only metric not read at scrape time). */
  observeScan(durationSec: number): void;
}

/** The names of the catalog's metrics (never removed with the unwanted default ones). */
const OWN_NAMES = new Set(Object.values(METRICS).map((spec) => spec.name));

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

// A gauge set from the figures at each scrape.
function gauge(spec: MetricSpec, registry: Registry<RegistryContentType>, read: (gauge: Gauge) => void): void {
  new Gauge({
    ...optionsOf(spec, registry),
    collect() {
      this.reset();
      read(this);
    },
  });
}

// A counter whose totals are kept elsewhere (the engine's views, the tally): set from them at each scrape.
function counter(spec: MetricSpec, registry: Registry<RegistryContentType>, totals: () => Iterable<[Record<string, string>, number]>): void {
  new Counter({
    ...optionsOf(spec, registry),
    collect() {
      this.reset();
      for (const [labels, value] of totals()) this.inc(labels, value);
    },
  });
}

// Every (labels, count) of a two-level count.
function* flatten(counts: Map<string, Map<string, number>>, outer: string, inner: string): Iterable<[Record<string, string>, number]> {
  for (const [a, row] of counts) for (const [b, value] of row) yield [{ [outer]: a, [inner]: b }, value];
}

export function buildRegistry(contentType: RegistryContentType, source: MetricsSource, tally: MetricsTally): BuiltRegistry {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const units = oncePerScrape(() => source.units());
  const nowMs = () => Date.now();

  gauge(METRICS.up, registry, (g) => units().forEach((u) => g.set({ name: u.name }, u.pid === 0 ? 0 : 1)));
  gauge(METRICS.state, registry, (g) => units().forEach((u) => UNIT_STATES.forEach((state) => g.set({ name: u.name, state }, u.state === state ? 1 : 0))));
  counter(METRICS.restarts, registry, () => units().map((u) => [{ name: u.name }, u.restarts]));
  counter(METRICS.crashes, registry, () => flatten(tally.crashes, "name", "signal"));
  counter(METRICS.cpuSeconds, registry, () => units().map((u) => [{ name: u.name }, tally.cpuSeconds(u.name)]));
  gauge(METRICS.cpuPercent, registry, (g) => units().forEach((u) => g.set({ name: u.name }, u.cpuPercent)));
  gauge(METRICS.residentBytes, registry, (g) => units().forEach((u) => g.set({ name: u.name }, u.rssBytes)));
  gauge(METRICS.memoryLimitBytes, registry, (g) => units().forEach((u) => u.memoryLimitBytes !== null && g.set({ name: u.name }, u.memoryLimitBytes)));
  gauge(METRICS.cpuLimitPercent, registry, (g) => units().forEach((u) => u.cpuLimit !== null && g.set({ name: u.name }, u.cpuLimit)));
  gauge(METRICS.cooldownActive, registry, (g) => units().forEach((u) => g.set({ name: u.name }, u.cooldownUntilMs > nowMs() ? 1 : 0)));
  gauge(METRICS.cooldownRemaining, registry, (g) => units().forEach((u) => g.set({ name: u.name }, Math.max(0, u.cooldownRemainingSec))));
  counter(METRICS.anomalies, registry, () => flatten(tally.anomalies, "name", "kind"));
  gauge(METRICS.policies, registry, (g) => g.set(units().length));
  gauge(METRICS.zombies, registry, (g) => g.set(source.zombieCount()));
  counter(METRICS.zombiesReaped, registry, () => [[{}, tally.zombiesReaped]]);
  counter(METRICS.notificationsSent, registry, () => source.notifications().map((n) => [{ channel: n.channel }, n.sent]));
  counter(METRICS.notificationsSuppressed, registry, () => source.notifications().map((n) => [{ channel: n.channel }, n.suppressed]));
  const scans = new Histogram({ ...optionsOf(METRICS.scanDuration, registry), buckets: SCAN_DURATION_BUCKETS });
  gauge(METRICS.processesScanned, registry, (g) => g.set(tally.processesScanned));
  counter(METRICS.busCalls, registry, () => [...source.busCalls()].map(([method, calls]) => [{ method }, calls]));
  counter(METRICS.eventLogWriteErrors, registry, () => [[{}, source.eventLogWriteErrors()]]);
  gauge(METRICS.buildInfo, registry, (g) => g.set({ version: source.version }, 1));
  collectDefaultMetrics({ register: registry, prefix: DEFAULT_METRICS_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS });
  for (const { name } of registry.getMetricsAsArray()) {
    if (name.startsWith(DEFAULT_METRICS_PREFIX) && !KEPT_DEFAULT_METRICS.test(name.slice(DEFAULT_METRICS_PREFIX.length)) && !OWN_NAMES.has(name)) {
      registry.removeSingleMetric(name);
    }
  }

  return { registry, observeScan: (durationSec) => scans.observe(durationSec) };
}
