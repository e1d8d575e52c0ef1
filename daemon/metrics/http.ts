// The /metrics endpoint: the Prometheus text format, or OpenMetrics when the
// scraper asks for it in Accept (as Prometheus does). Anything else is a 404
// or a 405; the server answers from memory and never waits on the engine.
// A scrape is answered with bytes made once per body, with their length, and
// never compressed: gzip cost the daemon more CPU to make than it saved on the
// wire (README, "Measured figures").
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const METRICS_PATH = "/metrics";
const OPENMETRICS_TYPE = "application/openmetrics-text";
/** Connections served at once. */
const MAX_CONNECTIONS = 16;
/**
 * How long an idle connection is kept for the scraper's next request, ms: longer than Prometheus keeps
 * one (90 s, Go's default), so that every scrape at the usual 15 s to 60 s intervals reuses it rather
 * than costing a new TCP connection (Node.js's default keeps it 5 s).
 */
const KEEP_ALIVE_MS = 120_000;

/** One answer to a scrape: the body and its headers as a flat list (name, value, ...), made once per body. */
export interface ScrapeAnswer {
  readonly body: Buffer;
  readonly headers: string[];
}

/** One format's exposition. */
export interface Exposition {
  /** The answer made last, when nothing it shows has changed since; null when it must be made again. */
  current(): ScrapeAnswer | null;
  /** Make the answer afresh. */
  render(): Promise<ScrapeAnswer>;
}

// The headers of a body: its type and length.
export function answerHeaders(contentType: string, body: Buffer): string[] {
  return ["Content-Type", contentType, "Content-Length", String(body.length)];
}

/** The exposition for each format (the OpenMetrics one is made on the first request that wants it). */
export interface Registries {
  prometheus(): Exposition;
  openMetrics(): Exposition;
}

/** The last Accept header read and what it asked for: a scraper sends the same one every time. */
let lastAccept: { header: string; openMetrics: boolean } | null = null;

// Whether Accept prefers OpenMetrics: listed with a quality above 0 and above text/plain's.
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  if (lastAccept?.header === accept) return lastAccept.openMetrics;
  const openMetrics = parseAccept(accept);
  lastAccept = { header: accept, openMetrics };
  return openMetrics;
}

function parseAccept(accept: string): boolean {
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

const PLAIN = "text/plain; charset=utf-8";
const FAILED = "the metrics could not be collected; see the daemon's log\n";
// A fixed answer of plain text, with more headers before its own.
function plainAnswer(text: string, headers: string[] = []): ScrapeAnswer {
  const body = Buffer.from(text);
  return { body, headers: [...headers, ...answerHeaders(PLAIN, body)] };
}
const NOT_FOUND = plainAnswer(`selfheal serves its metrics at ${METRICS_PATH}\n`);
const NOT_ALLOWED = plainAnswer("only GET and HEAD\n", ["Allow", "GET, HEAD"]);

// Send an answer (its body only to a GET).
function send(request: IncomingMessage, response: ServerResponse, status: number, answer: ScrapeAnswer): void {
  response.writeHead(status, answer.headers);
  response.end(request.method === "HEAD" ? undefined : answer.body);
}

// A scrape's answer: at once, with nothing made for it, when the last one is still current.
function answer(registries: Registries, request: IncomingMessage, response: ServerResponse, failed: (response: ServerResponse, error: unknown) => void): void {
  const url = request.url ?? "/";
  const query = url.indexOf("?");
  if ((query === -1 ? url : url.slice(0, query)) !== METRICS_PATH) return send(request, response, 404, NOT_FOUND);
  if (request.method !== "GET" && request.method !== "HEAD") return send(request, response, 405, NOT_ALLOWED);
  const exposition = wantsOpenMetrics(request.headers.accept) ? registries.openMetrics() : registries.prometheus();
  const current = exposition.current();
  if (current !== null) return send(request, response, 200, current);
  exposition
    .render()
    .then((made) => send(request, response, 200, made))
    .catch((error: unknown) => failed(response, error));
}

// Listen on host:port; resolves with the server once it listens, rejects when it cannot (address in use...).
export function serveMetrics(registries: Registries, host: string, port: number): Promise<Server> {
  // A failure that repeats at every scrape is logged once (per message), not every few seconds.
  let lastFailure = "";
  const failed = (response: ServerResponse, error: unknown): void => {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== lastFailure) console.error("selfheal: metrics: a scrape failed (said once while it fails so):", error);
    lastFailure = message;
    if (!response.headersSent) response.writeHead(500, { "Content-Type": PLAIN });
    response.end(FAILED);
  };
  const server = createServer((request, response) => {
    try {
      answer(registries, request, response, failed);
    } catch (error) {
      failed(response, error);
    }
  });
  // A scraper or two, a person with curl: a flood of connections (an address open to a network) is refused beyond this.
  server.maxConnections = MAX_CONNECTIONS;
  server.keepAliveTimeout = KEEP_ALIVE_MS;
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
