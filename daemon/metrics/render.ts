// One rendering of a registry, the same bytes prom-client's own
// registry.metrics() gives, with each metric formatted again only when it
// changed: between two scrapes of an idle daemon almost nothing changes (the
// programs' states, limits, restarts; a sleeping program's memory and CPU), and
// prom-client's formatting of about 900 series was most of a scrape's CPU.
// The text of every metric is still prom-client's; what is kept is that text,
// as bytes, and the whole body made of them, reused while no part changed.
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
/** Between two metrics, and after the last, as registry.metrics() joins them. */
const TEXT_SEPARATOR = Buffer.from("\n\n");
const TEXT_END = Buffer.from("\n");
const OPENMETRICS_SEPARATOR = Buffer.from("\n");
const OPENMETRICS_END = Buffer.from("\n# EOF\n");

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
  /** The last bytes of each metric, in the registry's order (null: format it at the next render). */
  private readonly parts: Array<Buffer | null>;
  /** Whether each metric may have changed since its bytes were made; absent: always formatted afresh. */
  private readonly changed: Array<(() => boolean) | undefined>;
  /** The metrics' names as registered (prom-client finds a metric by it, even after the rename below). */
  private readonly names: string[];
  private readonly separator: Buffer;
  private readonly end: Buffer;
  /** The last body, made of the parts as they are now (null: make it again). */
  private body: Buffer | null = null;

  // Made once the registry holds all its metrics. `changed` gives, by name, when a metric that is not
  // one of `own` (prom-client's default metrics, the histogram) may have changed.
  constructor(
    private readonly registry: Registry<RegistryContentType>,
    own: ReadonlyMap<string, OwnMetric>,
    changed: ReadonlyMap<string, () => boolean> = new Map(),
  ) {
    const isOpenMetrics = registry.contentType.startsWith(OPENMETRICS);
    [this.separator, this.end] = isOpenMetrics ? [OPENMETRICS_SEPARATOR, OPENMETRICS_END] : [TEXT_SEPARATOR, TEXT_END];
    this.names = registry.getMetricsAsArray().map((metric) => metric.name);
    this.parts = this.names.map(() => null);
    this.changed = this.names.map((name) => {
      const metric = own.get(name);
      return metric === undefined ? changed.get(name) : (metric.changed?.bind(metric) ?? byFingerprint(metric));
    });
    // As registry.metrics() does: in OpenMetrics a counter's name is given without _total, which is added to its samples.
    // (prom-client's typings call the type an enum; at run time it is the word.)
    if (isOpenMetrics) for (const metric of registry.getMetricsAsArray()) if (String(metric.type) === "counter") metric.name = metric.name.replace(/_total$/, "");
  }

  // The whole exposition as bytes: the same body while no metric changed (the same Buffer), a new one otherwise.
  async bytes(): Promise<Buffer> {
    // Every changed() in one synchronous pass, in order, before anything is formatted (as registry.metrics() collects).
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < this.names.length; i++) {
      // Asked at every render, even of a metric not yet formatted: each keeps what it saw last.
      const changed = this.changed[i]?.() ?? true;
      if (!changed && this.parts[i] !== null) continue;
      // Forgotten before it is made again: a render that fails is made again at the next one.
      this.parts[i] = null;
      this.body = null;
      pending.push(this.format(i));
    }
    if (pending.length > 0) await Promise.all(pending);
    return (this.body ??= this.join());
  }

  // The whole exposition as text (the textfile, tests).
  async metrics(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  private async format(i: number): Promise<void> {
    this.parts[i] = Buffer.from(await this.registry.getSingleMetricAsString(this.names[i]!), "utf8");
  }

  // The parts joined as registry.metrics() joins the texts.
  private join(): Buffer {
    const list: Buffer[] = [];
    for (const part of this.parts) {
      if (list.length > 0) list.push(this.separator);
      list.push(part!);
    }
    list.push(this.end);
    return Buffer.concat(list);
  }
}
