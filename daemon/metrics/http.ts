// The /metrics endpoint: the Prometheus text format, or OpenMetrics when the
// scraper asks for it in Accept (as Prometheus does). Anything else is a 404
// or a 405; the server answers from memory and never waits on the engine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { RegistryContentType } from "prom-client";

export const METRICS_PATH = "/metrics";
const OPENMETRICS_TYPE = "application/openmetrics-text";
/** Connections served at once. */
const MAX_CONNECTIONS = 16;

/** One format's exposition: its content type and its text now. */
export interface Exposition {
  readonly contentType: RegistryContentType;
  metrics(): Promise<string>;
}

/** The exposition for each format (the OpenMetrics one is made on the first request that wants it). */
export interface Registries {
  prometheus(): Exposition;
  openMetrics(): Exposition;
}

// Whether Accept prefers OpenMetrics: listed with a quality above 0 and above text/plain's.
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let open = 0;
  let text = 0;
  for (const part of accept.split(",")) {
    const [type = "", ...params] = part.split(";").map((piece) => piece.trim());
    const q = Number(params.find((param) => param.startsWith("q="))?.slice(2) ?? 1);
    if (type === OPENMETRICS_TYPE) open = Math.max(open, q);
    else if (type === "text/plain") text = Math.max(text, q);
  }
  return open > 0 && open >= text;
}

async function answer(registries: Registries, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? "/").split("?")[0];
  if (path !== METRICS_PATH) {
    response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end(`selfheal serves its metrics at ${METRICS_PATH}\n`);
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("only GET and HEAD\n");
    return;
  }
  const registry = wantsOpenMetrics(request.headers.accept) ? registries.openMetrics() : registries.prometheus();
  const body = await registry.metrics();
  response.writeHead(200, { "Content-Type": registry.contentType });
  response.end(request.method === "HEAD" ? undefined : body);
}

// Listen on host:port; resolves with the server once it listens, rejects when it cannot (address in use...).
export function serveMetrics(registries: Registries, host: string, port: number): Promise<Server> {
  // A failure that repeats at every scrape is logged once (per message), not every few seconds.
  let lastFailure = "";
  const server = createServer((request, response) => {
    answer(registries, request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastFailure) console.error("selfheal: metrics: a scrape failed (said once while it fails so):", error);
      lastFailure = message;
      if (!response.headersSent) response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
      response.end("the metrics could not be collected; see the daemon's log\n");
    });
  });
  // A scraper or two, a person with curl: a flood of connections (an address open to a network) is refused beyond this.
  server.maxConnections = MAX_CONNECTIONS;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      server.on("error", (error) => console.error("selfheal: metrics endpoint:", error));
      resolve(server);
    });
  });
}

// The address a server listens on, as a URL for people.
export function metricsUrl(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}${METRICS_PATH}`;
}
