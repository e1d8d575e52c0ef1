// The metrics adapter: the tally of events and scans, the registries, and
// where the metrics go: an HTTP endpoint for Prometheus, a file for
// node_exporter's textfile collector, or both. Loaded only when config.toml
// has a [metrics] section (metrics/host.ts), so prom-client costs nothing otherwise.
import type { Server } from "node:http";

import type { MetricsSettings } from "../config/policy.js";
import type { MetricsSource } from "./source.js";

import { Registry, type RegistryContentType } from "prom-client";

import { systemClockTicksPerSecond } from "../proc/scan.js";
import { LatestFileWriter } from "../state/latestFile.js";
import { metricsUrl, serveMetrics } from "./http.js";
import { buildRegistry, type BuiltRegistry } from "./registry.js";
import { ServedExposition } from "./served.js";
import { MetricsTally } from "./tally.js";

/**
 * node_exporter runs as a user of its own: the file must be readable by others (it holds no secret beyond
 * program names). Rewritten every scan and worthless after a power cut, so it is not flushed to disk each time.
 */
const TEXTFILE_OPTIONS = { mode: 0o644, sync: false } as const;

// Whether a listen address keeps the metrics on this machine.
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

export class MetricsExporter {
  readonly tally: MetricsTally;
  private readonly prometheus: BuiltRegistry;
  private openMetrics: BuiltRegistry | null = null;
  /** What the endpoint serves of each format (the OpenMetrics one made on the first request that wants it). */
  private readonly served: { prometheus: ServedExposition; openMetrics: ServedExposition | null };
  /** Scans and engine events seen: anything the metrics show may have changed with each. */
  private changes = 0;
  private server: Server | null = null;
  private textfile: LatestFileWriter | null = null;
  private settings: MetricsSettings = { listen: null, textfile: null };
  private readonly unsubscribers: Array<() => void>;
  /** The textfile's content is being rendered: a scan meanwhile is written by the next render. */
  private rendering = false;
  /** The last textfile error logged: the same one is not logged again at every scan. */
  private lastTextfileError = "";

  constructor(private readonly source: MetricsSource) {
    this.tally = new MetricsTally(systemClockTicksPerSecond());
    this.prometheus = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, this.tally);
    this.served = { prometheus: new ServedExposition(this.prometheus, () => this.changeStamp()), openMetrics: null };
    this.unsubscribers = [
      source.subscribe((event) => {
        this.changes++;
        this.tally.observe(event, new Set(source.units().map((unit) => unit.name)));
      }),
      source.onScan(({ snapshot, durationSec }) => {
        this.changes++;
        const units = source.units();
        this.tally.forgetAllBut(new Set(units.map((unit) => unit.name)));
        this.tally.observeScan(snapshot, units);
        this.prometheus.observeScan(durationSec);
        this.openMetrics?.observeScan(durationSec);
        this.writeTextfile();
      }),
    ];
  }

  /** The registry in the Prometheus text format (tests, the textfile). */
  get registry(): Registry<RegistryContentType> {
    return this.prometheus.registry;
  }

  /** Where the endpoint listens, or null. */
  get url(): string | null {
    return this.server === null ? null : metricsUrl(this.server);
  }

  // Take new settings: listen where asked (a problem is logged; the daemon runs on), write the file where asked.
  async configure(settings: MetricsSettings): Promise<void> {
    const before = this.settings;
    this.settings = settings;
    if (JSON.stringify(before.listen) !== JSON.stringify(settings.listen)) await this.listen();
    if (before.textfile !== settings.textfile) {
      await this.textfile?.idle();
      this.textfile =
        settings.textfile === null
          ? null
          : new LatestFileWriter(settings.textfile, (error) => this.textfileFailed(settings.textfile!, error), TEXTFILE_OPTIONS);
    }
  }

  async stop(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    await this.close();
    await this.textfile?.idle();
    this.textfile = null;
  }

  private async listen(): Promise<void> {
    await this.close();
    const listen = this.settings.listen;
    if (listen === null) return;
    try {
      this.server = await serveMetrics({ prometheus: () => this.served.prometheus, openMetrics: () => this.servedOpenMetrics() }, listen.host, listen.port);
      const exposure = isLoopback(listen.host) ? "" : " (not a loopback address: whoever can reach it sees the names and figures of your programs)";
      console.error(`selfheal: metrics at ${this.url}${exposure}`);
    } catch (error) {
      console.error(`selfheal: metrics: cannot listen on ${listen.host}:${listen.port}: ${error instanceof Error ? error.message : String(error)}; no endpoint, the daemon runs on`);
    }
  }

  // The OpenMetrics exposition, built on the first request that wants it.
  private servedOpenMetrics(): ServedExposition {
    if (this.served.openMetrics === null) {
      this.openMetrics = buildRegistry(Registry.OPENMETRICS_CONTENT_TYPE, this.source, this.tally);
      this.served.openMetrics = new ServedExposition(this.openMetrics, () => this.changeStamp());
    }
    return this.served.openMetrics;
  }

  // A number that grows whenever anything the metrics show may have changed, but the time: the scans and
  // events seen here, and the source's own counts (D-Bus calls, notifications, event log write errors),
  // which only grow, so that their sum changes whenever one of them does.
  private changeStamp(): number {
    let stamp = this.changes + this.source.eventLogWriteErrors();
    for (const calls of this.source.busCalls().values()) stamp += calls;
    for (const channel of this.source.notifications()) stamp += channel.sent + channel.suppressed;
    return stamp;
  }

  private async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  // A write of the textfile failed (a folder the user cannot write to...): said once per kind of error.
  private textfileFailed(path: string, error: Error): void {
    if (error.message === this.lastTextfileError) return;
    this.lastTextfileError = error.message;
    console.error(`selfheal: metrics: cannot write ${path}: ${error.message} (said once; the daemon runs on and tries again at every scan)`);
  }

  // After a scan: the file gets this scan's figures (renders do not pile up: one at a time, the newest wins).
  private writeTextfile(): void {
    if (this.textfile === null || this.rendering) return;
    this.rendering = true;
    const writer = this.textfile;
    this.prometheus
      .metrics()
      .then((text) => writer.write(text))
      .catch((error: unknown) => console.error("selfheal: metrics: cannot render the textfile:", error))
      .finally(() => (this.rendering = false));
  }
}
