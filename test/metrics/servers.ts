// A real Prometheus and a real node_exporter for the metrics' tests (Debian's
// `prometheus` and `prometheus-node-exporter`, installed by scripts/test-deps.sh):
// each on a free loopback port, with its own temporary folder, stopped by pid.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

import { waitFor } from "../helpers/daemon.js";

/** How long a server may take to be ready on a loaded machine. */
const READY_MS = 60_000;

// A port nothing listens on now (the kernel's pick, released at once).
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// GET a URL; the status and body, or null when nothing answers.
export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string } | null> {
  try {
    const response = await fetch(url, { headers });
    return { status: response.status, body: await response.text(), type: response.headers.get("content-type") ?? "" };
  } catch {
    return null;
  }
}

/** A running server started by a test; its output kept for the failure message. */
export interface TestServer {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

// Start a program and wait until `readyPath` answers 200.
async function startServer(command: string, args: string[], url: string, readyPath: string): Promise<TestServer> {
  let output = "";
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const ended = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await ended;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${command} ended:\n${output}`);
        return (await get(`${url}${readyPath}`))?.status === 200;
      },
      READY_MS,
      () => `${command} was not ready:\n${output}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, output: () => output, stop };
}

/** Prometheus scraping `target` every second, with the given rule files loaded. */
export async function startPrometheus(dir: string, target: string, ruleFiles: string[] = []): Promise<TestServer & { query(expr: string): Promise<PromResult> }> {
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      `rule_files: ${JSON.stringify(ruleFiles)}`,
      "scrape_configs:",
      "  - job_name: selfheal",
      "    static_configs:",
      `      - targets: [${JSON.stringify(target)}]`,
      "",
    ].join("\n"),
  );
  const url = `http://127.0.0.1:${port}`;
  const server = await startServer(
    "prometheus",
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, "prometheus-data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    url,
    "/-/ready",
  );
  return {
    ...server,
    async query(expr) {
      const response = await get(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      if (response === null) throw new Error(`Prometheus did not answer the query ${expr}`);
      return JSON.parse(response.body) as PromResult;
    },
  };
}

/** An answer of Prometheus's query API. */
export interface PromResult {
  status: "success" | "error";
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** node_exporter serving the *.prom files of `textfileDir`, its other collectors off. */
export async function startNodeExporter(textfileDir: string): Promise<TestServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startServer(
    "prometheus-node-exporter",
    ["--collector.disable-defaults", "--collector.textfile", `--collector.textfile.directory=${textfileDir}`, `--web.listen-address=127.0.0.1:${port}`],
    url,
    "/metrics",
  );
}

// promtool's verdict on a file or on text given on stdin: its exit status and what it said.
export function promtool(args: string[], input?: string): { status: number | null; output: string } {
  const result = spawnSync("promtool", args, { input, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
