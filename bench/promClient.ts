// A scraper that behaves as Prometheus 2.42 does on the wire (captured from a
// real one scraping a node:http server every second): one kept-alive
// connection, its Accept (OpenMetrics first), Accept-Encoding: gzip, its
// User-Agent and scrape timeout header. A new TCP connection per scrape, as a
// plain fetch() may make, costs the server more than a kept one.
import { Agent, request, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { gunzipSync } from "node:zlib";

/** Prometheus's own Accept header (2.42): OpenMetrics first. */
export const PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/** One scrape's answer: the body (decompressed), its size on the wire, its headers. */
export interface Scraped {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  wireBytes: number;
}

export class PrometheusLikeClient {
  /** One connection, kept between scrapes (Prometheus's Go client keeps it for 90 s idle). */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 1000 });
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string> = { Accept: PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip", "User-Agent": "Prometheus/2.42.0", "X-Prometheus-Scrape-Timeout-Seconds": "1" },
  ) {}

  /** Connections opened so far (1 when every scrape kept the first). */
  get connections(): number {
    return this.sockets.size;
  }

  scrape(headers: Record<string, string> = {}): Promise<Scraped> {
    return new Promise((resolve, reject) => {
      const req = request(this.url, { agent: this.agent, headers: { ...this.headers, ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const wire = Buffer.concat(chunks);
          const body = res.headers["content-encoding"] === "gzip" ? gunzipSync(wire) : wire;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, wireBytes: wire.length });
        });
      });
      req.on("socket", (socket) => this.sockets.add(socket));
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
