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
  /**
   * Whether the series may differ from those of the last call (true at the first); called once per render.
   * By default the series are compared through their fingerprint; the per-program metrics compare their
   * figures directly (registry.ts), which makes no garbage.
   */
  changed?(): boolean;
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

// A metric's changed(), from the fingerprint of its series.
function byFingerprint(metric: OwnMetric): () => boolean {
  let last: string | null = null;
  return () => {
    const key = fingerprint(metric.series());
    const changed = key !== last;
    last = key;
    return changed;
  };
}

export class CachingRender {
  /** The last text of each of selfheal's metrics (absent: format it at the next render). */
  private readonly texts = new Map<string, string>();
  private readonly changed = new Map<string, () => boolean>();
  /** The metrics' names as registered (prom-client finds a metric by it, even after the rename below). */
  private readonly names: string[];
  private readonly isOpenMetrics: boolean;

  // Made once the registry holds all its metrics.
  constructor(
    private readonly registry: Registry<RegistryContentType>,
    own: ReadonlyMap<string, OwnMetric>,
  ) {
    this.isOpenMetrics = registry.contentType.startsWith(OPENMETRICS);
    this.names = registry.getMetricsAsArray().map((metric) => metric.name);
    for (const [name, metric] of own) this.changed.set(name, metric.changed?.bind(metric) ?? byFingerprint(metric));
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
    const changed = this.changed.get(name);
    if (changed === undefined) return this.registry.getSingleMetricAsString(name);
    if (changed()) this.texts.delete(name);
    const cached = this.texts.get(name);
    if (cached !== undefined) return cached;
    // Forgotten before it is made again: a render that fails is made again at the next one.
    const text = await this.registry.getSingleMetricAsString(name);
    this.texts.set(name, text);
    return text;
  }
}
