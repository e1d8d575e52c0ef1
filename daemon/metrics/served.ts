// What the endpoint serves of one format: the answer made last, as long as
// nothing it shows can have changed since (no scan, no engine event, no D-Bus
// call or notification counted, and younger than the process figures' refresh
// period); otherwise a fresh render. A scrape between two scans, at a scrape
// interval shorter than the scan interval, renders nothing and sends the same bytes.
import type { Exposition, ScrapeAnswer } from "./http.js";
import type { BuiltRegistry } from "./registry.js";

import { performance } from "node:perf_hooks";

import { answerHeaders } from "./http.js";
import { PROCESS_METRICS_REFRESH_MS } from "./registry.js";

export class ServedExposition implements Exposition {
  private answer: ScrapeAnswer | null = null;
  /** The change stamp and the time the answer was made at. */
  private madeStamp = Number.NaN;
  private madeMs = Number.NEGATIVE_INFINITY;

  // `stamp` gives a number that grows whenever anything the metrics show may have changed, but the time.
  constructor(
    private readonly built: BuiltRegistry,
    private readonly stamp: () => number,
  ) {}

  current(): ScrapeAnswer | null {
    if (this.answer === null || this.stamp() !== this.madeStamp) return null;
    // The process figures and the cooldowns' remaining seconds move with time alone.
    return performance.now() - this.madeMs < PROCESS_METRICS_REFRESH_MS ? this.answer : null;
  }

  async render(): Promise<ScrapeAnswer> {
    // Read before the render: a change during it is rendered by the next scrape.
    const stamp = this.stamp();
    const madeMs = performance.now();
    const body = await this.built.bytes();
    // The same bytes (nothing formatted again): the same answer, headers and all.
    if (this.answer?.body !== body) this.answer = { body, headers: answerHeaders(this.built.registry.contentType, body) };
    this.madeStamp = stamp;
    this.madeMs = madeMs;
    return this.answer;
  }
}
