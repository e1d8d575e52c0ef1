// One rendering of a registry, as prom-client's own registry.metrics() makes
// it, with each of selfheal's metrics rendered again only when its series
// changed: between two scrapes of an idle daemon almost nothing changes (the
// programs' states, limits, restarts; a sleeping program's memory and CPU), and
// prom-client's formatting of about 900 series was most of a scrape's CPU.
// The text of every metric is still prom-client's; what is kept is only that
// text, with the series it was made from.
import type { Registry, RegistryContentType } from "prom-client";

/** One series of a metric: its labels and its value. */
export type Series = [Record<string, string>, number];

/** A metric whose series can be read without prom-client (the catalog's gauges and counters). */
export interface OwnMetric {
  series(): Iterable<Series>;
  /** A key that changes whenever the series do; by default made from them (a cheaper one for the per-program metrics). */
  key?(): string;
}

const OPENMETRICS = "application/openmetrics-text";

// A key that changes whenever a series, its labels or its order changes.
export function fingerprint(series: Iterable<Series>): string {
  let key = "";
  for (const [labels, value] of series) {
    for (const label in labels) key += `${labels[label]}\u0000`;
    key += `${value}\n`;
  }
  return key;
}

export class CachingRender {
  private readonly texts = new Map<string, { key: string; text: string }>();
  /** The metrics' names as registered (prom-client finds a metric by it, even after the rename below). */
  private readonly names: string[];
  private readonly isOpenMetrics: boolean;

  // Made once the registry holds all its metrics.
  constructor(
    private readonly registry: Registry<RegistryContentType>,
    private readonly own: ReadonlyMap<string, OwnMetric>,
  ) {
    this.isOpenMetrics = registry.contentType.startsWith(OPENMETRICS);
    this.names = registry.getMetricsAsArray().map((metric) => metric.name);
    // As registry.metrics() does: in OpenMetrics a counter's name is given without _total, which is added to its samples.
    // (prom-client's typings call the type an enum; at run time it is the word.)
    if (this.isOpenMetrics) for (const metric of registry.getMetricsAsArray()) if (String(metric.type) === "counter") metric.name = metric.name.replace(/_total$/, "");
  }

  // The whole exposition: the same text registry.metrics() gives, metric by metric.
  async metrics(): Promise<string> {
    const parts = await Promise.all(this.names.map((name) => this.text(name)));
    return this.isOpenMetrics ? `${parts.join("\n")}\n# EOF\n` : `${parts.join("\n\n")}\n`;
  }

  // One metric's text: the last one when its series are the same as then.
  private async text(name: string): Promise<string> {
    const own = this.own.get(name);
    if (own === undefined) return this.registry.getSingleMetricAsString(name);
    const key = own.key?.() ?? fingerprint(own.series());
    const cached = this.texts.get(name);
    if (cached?.key === key) return cached.text;
    const text = await this.registry.getSingleMetricAsString(name);
    this.texts.set(name, { key, text });
    return text;
  }
}
