// Where the daemon keeps its metrics adapter: none until config.toml has a
// [metrics] section, then loaded (prom-client with it) and following config
// reloads; stopped with the daemon. Nothing here imports prom-client.
import type { MetricsSettings } from "../config/policy.js";
import type { MetricsExporter } from "./exporter.js";
import type { MetricsSource } from "./source.js";

export class MetricsHost {
  private exporter: Promise<MetricsExporter> | null = null;
  /** Settings applied one after the other: a reload during a load waits for it. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly source: MetricsSource) {}

  /** True once a [metrics] section has loaded the adapter. */
  get loaded(): boolean {
    return this.exporter !== null;
  }

  // The [metrics] section in force changed (null: absent); resolves once applied. Never rejects.
  configure(settings: MetricsSettings | null): Promise<void> {
    this.queue = this.queue.then(() => this.apply(settings)).catch((error: unknown) => console.error("selfheal: metrics:", error));
    return this.queue;
  }

  async stop(): Promise<void> {
    await this.configure(null);
  }

  /** The adapter, when loaded (tests). */
  current(): Promise<MetricsExporter> | null {
    return this.exporter;
  }

  private async apply(settings: MetricsSettings | null): Promise<void> {
    if (settings === null) {
      const exporter = this.exporter;
      this.exporter = null;
      await (await exporter)?.stop();
      return;
    }
    this.exporter ??= import("./exporter.js").then(({ MetricsExporter }) => new MetricsExporter(this.source));
    await (await this.exporter).configure(settings);
  }
}
