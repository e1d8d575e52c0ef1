// What each scrape is answered with: one body made after a scan or an event
// and served as the same bytes until the next one (a scrape in between renders
// nothing), with its length, never compressed, over a connection kept for
// Prometheus's next scrape.
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";

import { afterEach, describe, expect, it, vi } from "vitest";

import { MetricsExporter } from "../../daemon/metrics/exporter.js";
import { freePort } from "./servers.js";
import { TestSource, view } from "./testSource.js";

/** Prometheus 2.42's own request headers. */
const PROMETHEUS_HEADERS = {
  Accept: "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
  "Accept-Encoding": "gzip",
  "User-Agent": "Prometheus/2.42.0",
  "X-Prometheus-Scrape-Timeout-Seconds": "1",
};
/** Go's HTTP client (Prometheus's) closes an idle kept connection after this long. */
const PROMETHEUS_IDLE_SECONDS = 90;

let exporter: MetricsExporter | null = null;
let agent: Agent | null = null;

afterEach(async () => {
  agent?.destroy();
  agent = null;
  await exporter?.stop();
  exporter = null;
  vi.restoreAllMocks();
});

const scanned = { snapshot: { timeMs: 0, processes: new Map(), childrenOf: () => [] }, durationSec: 0.003 };

// An exporter of one running policy on a free loopback port, and its source.
async function listening(): Promise<{ source: TestSource; url: string }> {
  const source = new TestSource();
  source.views = [view("editor", { pid: 42, state: "running" })];
  exporter = new MetricsExporter(source);
  const port = await freePort();
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  await exporter.configure({ listen: { host: "127.0.0.1", port }, textfile: null });
  return { source, url: `http://127.0.0.1:${port}/metrics` };
}

// GET as Prometheus does, on one kept connection: the raw bytes, the headers, and the socket it came over.
function scrape(url: string, headers: Record<string, string> = PROMETHEUS_HEADERS): Promise<{ body: Buffer; headers: IncomingHttpHeaders; socket: Socket }> {
  agent ??= new Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: agent!, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ body: Buffer.concat(chunks), headers: res.headers, socket: req.socket! }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the body a scrape is answered with", () => {
  it("is the same bytes between scans, rendered once, and fresh after a scan", async () => {
    // The clock held still: a stalled machine must not put the two scrapes a refresh period (5 s) apart.
    vi.spyOn(performance, "now").mockReturnValue(1_000_000);
    const { source, url } = await listening();
    const units = vi.spyOn(source, "units");
    const first = await scrape(url);
    const rendered = units.mock.calls.length;
    expect(rendered).toBeGreaterThan(0);
    const second = await scrape(url);
    expect(second.body.equals(first.body)).toBe(true);
    expect(units.mock.calls.length).toBe(rendered);

    source.views = [view("editor", { pid: 42, state: "running", rssBytes: 12_345_678 })];
    source.scan(scanned);
    const third = (await scrape(url)).body.toString();
    expect(third).toContain('selfheal_resident_memory_bytes{name="editor"} 12345678');
    expect(third).toMatch(/^selfheal_scan_duration_seconds_count 1$/m);
    expect(units.mock.calls.length).toBeGreaterThan(rendered);
  });

  it("is fresh after an engine event or a D-Bus call between two scans", async () => {
    const { source, url } = await listening();
    await scrape(url);
    source.views = [view("editor", { pid: 43, state: "running", restarts: 1 })];
    source.emit({ kind: "crashed", timeMs: 0, message: "", name: "editor", pid: 42, exitCode: null, signal: "SIGSEGV", statusKnown: true, willRestart: true });
    const afterCrash = (await scrape(url)).body.toString();
    expect(afterCrash).toContain('selfheal_crashes_total{name="editor",signal="SIGSEGV"} 1');
    expect(afterCrash).toContain('selfheal_restarts_total{name="editor"} 1');
    source.calls.set("ListProcesses", 7);
    expect((await scrape(url)).body.toString()).toContain('selfheal_dbus_calls_total{method="ListProcesses"} 7');
  });

  it("is each format's own when text and OpenMetrics scrapes alternate between scans", async () => {
    const { url } = await listening();
    for (let i = 0; i < 2; i++) {
      const open = await scrape(url);
      expect(open.headers["content-type"]).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
      expect(open.body.toString()).toMatch(/# TYPE selfheal_restarts counter\n[\s\S]*# EOF\n$/);
      const text = await scrape(url, { Accept: "text/plain" });
      expect(text.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(text.body.toString()).toContain("# TYPE selfheal_restarts_total counter");
      expect(text.body.toString()).not.toContain("# EOF");
    }
  });

  it("carries its length, is not compressed though gzip is offered, and keeps the connection for the next scrape", async () => {
    const { url } = await listening();
    const first = await scrape(url);
    expect(first.headers["content-length"]).toBe(String(first.body.length));
    expect(first.headers["transfer-encoding"]).toBeUndefined();
    expect(first.headers["content-encoding"]).toBeUndefined();
    // Kept at least as long as Prometheus keeps an idle connection, so a 15 s or 60 s interval reuses it too.
    const keepAlive = Number(/timeout=(\d+)/.exec(String(first.headers["keep-alive"] ?? ""))?.[1]);
    expect(keepAlive).toBeGreaterThanOrEqual(PROMETHEUS_IDLE_SECONDS);
    const second = await scrape(url);
    expect(second.socket).toBe(first.socket);
  });
});
