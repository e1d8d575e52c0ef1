// The metrics' cost: the time to scrape /metrics with 50 policies, the
// daemon's CPU per scrape (back to back, and one a second as Prometheus with a
// 1 s interval scrapes, with a scan between two scrapes and without), Node.js's
// own HTTP server for comparison (identity and gzip), and the daemon's CPU and
// memory with no [metrics], with the endpoint and no scraper, and with a scrape
// every second. Every scrape is made as Prometheus makes it (promClient.ts):
// one kept connection, its Accept and Accept-Encoding headers.
//
//   node --import tsx bench/metrics.ts [--rounds 3] [--spaced 120]
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { constants, performance, PerformanceObserver } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import { buildRegistry } from "../daemon/metrics/registry.js";
import { MetricsTally } from "../daemon/metrics/tally.js";
import { TestSource, view } from "../test/metrics/testSource.js";
import { makeTestDir, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";
import { freePort } from "../test/metrics/servers.js";
import { RUN_ID } from "./engine.js";
import { PrometheusLikeClient, PROMETHEUS_ACCEPT } from "./promClient.js";
import { percentile, summarize } from "./stats.js";

const WATCHED = 50;
const SCRAPES = 300;
const MEASURE_SECONDS = 40;
const SETTLE_MS = 5000;
const SCRAPE_INTERVAL_MS = 1000;
/** Scrapes one second apart whose CPU is counted one by one (and as many windows without a scrape). */
const DEFAULT_SPACED_SCRAPES = 120;
/** Rounds of the three modes, alternating, for the CPU and memory figures. */
const DEFAULT_ROUNDS = 3;
/** After a scrape's answer, the daemon's own wind-down (its 'finish' handlers) is counted within this. */
const AFTER_ANSWER_MS = 5;
/** A scan interval long enough that one-a-second scrapes mostly find no scan since the last (the body served again). */
const SLOW_SCAN_INTERVAL_SEC = 10;

export type Mode = "no [metrics]" | "endpoint, not scraped" | "endpoint, scraped every 1 s";

/** A process's memory, MB: all resident, its anonymous part, and that part's proportional share (smaps_rollup). */
interface Memory {
  rssMb: number;
  anonMb: number;
  pssAnonMb: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const load = () => `load average ${loadavg()[0]!.toFixed(1)}`;

// CPU seconds (user + system) of a process, from /proc (clock ticks: 10 ms steps).
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// CPU nanoseconds every thread of a process has run (schedstat: exact, where /proc/PID/stat counts in ticks).
function cpuNs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "latin1").split(" ")[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return ns;
}

// Resident memory of a process: the file-backed part is the node binary's pages, the same for every mode; the anonymous part is the daemon's own.
function memory(pid: number): Memory {
  const field = (text: string, name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) / 1024;
  const status = readFileSync(`/proc/${pid}/status`, "latin1");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "latin1");
  return { rssMb: field(status, "VmRSS"), anonMb: field(rollup, "Anonymous"), pssAnonMb: field(rollup, "Pss_Anon") };
}


// The CPU one scrape costs a process at a 1 s interval: each scrape's window (the request to its answer, and a few ms)
// counted exactly, less a window as long without a scrape taken in the same second; both at random moments, so a
// scan falls in either as often. Mean and its standard error, ms.
async function cpuPerSpacedScrape(pid: number, request: () => Promise<unknown>, count: number): Promise<{ meanMs: number; errorMs: number }> {
  const costs: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await sleep(Math.random() * 400);
    const before = cpuNs(pid);
    const windowStart = performance.now();
    await request();
    await sleep(AFTER_ANSWER_MS);
    const withScrape = cpuNs(pid) - before;
    const windowMs = performance.now() - windowStart;
    await sleep(100 + Math.random() * 300);
    const quietBefore = cpuNs(pid);
    await sleep(windowMs);
    costs.push((withScrape - (cpuNs(pid) - quietBefore)) / 1e6);
    await sleep(Math.max(0, SCRAPE_INTERVAL_MS - (performance.now() - start)));
  }
  const mean = costs.reduce((sum, cost) => sum + cost, 0) / costs.length;
  const sd = Math.sqrt(costs.reduce((sum, cost) => sum + (cost - mean) ** 2, 0) / (costs.length - 1));
  return { meanMs: mean, errorMs: sd / Math.sqrt(costs.length) };
}

// Scrape timings and CPU per scrape: back to back (in both formats), then one a second.
async function scrapeCosts(url: string, pid: number, spaced: number): Promise<void> {
  for (const [label, accept] of [["text format", "text/plain"], ["OpenMetrics (as Prometheus asks)", PROMETHEUS_ACCEPT]] as const) {
    const client = new PrometheusLikeClient(url);
    const times: number[] = [];
    let bytes = 0;
    const cpuBefore = cpuNs(pid);
    const burstStart = performance.now();
    for (let i = 0; i < SCRAPES; i++) {
      const start = performance.now();
      bytes = (await client.scrape({ Accept: accept })).body.length;
      times.push(performance.now() - start);
    }
    const burst = { cpuNs: cpuNs(pid) - cpuBefore, ms: performance.now() - burstStart };
    const connections = client.connections;
    client.close();
    // The daemon's own rate over as long without scrapes, taken from the burst's CPU: what the scrapes cost (a count, not a clock).
    const quietBefore = cpuNs(pid);
    await sleep(burst.ms);
    const perScrapeMs = (burst.cpuNs - (cpuNs(pid) - quietBefore)) / SCRAPES / 1e6;
    const s = summarize(times.slice(20));
    console.log(
      `scrape of /metrics, ${WATCHED} policies, ${label} (${(bytes / 1024).toFixed(0)} KiB, ${connections} connection(s)), ${load()}: median ${s.median.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms, min ${s.min.toFixed(2)} ms; ` +
        `the daemon's CPU per scrape back to back (its CPU over ${SCRAPES} scrapes less its own over as long without): ${perScrapeMs.toFixed(2)} ms`,
    );
  }
  await spacedScrapeCost(url, pid, spaced, "a scan (1 s) between most two scrapes");
}

// The daemon's CPU per scrape at one scrape a second, as Prometheus makes them.
async function spacedScrapeCost(url: string, pid: number, spaced: number, what: string): Promise<void> {
  const client = new PrometheusLikeClient(url);
  await client.scrape();
  const { meanMs, errorMs } = await cpuPerSpacedScrape(pid, () => client.scrape(), spaced);
  const connections = client.connections;
  client.close();
  console.log(
    `the daemon's CPU per scrape, one scrape a second (${spaced} scrapes, as Prometheus: OpenMetrics, gzip offered, ${connections} kept connection(s)), ${what}, ${load()}: ` +
      `${meanMs.toFixed(2)} ± ${errorMs.toFixed(2)} ms, i.e. ${((meanMs * 60) / 1000).toFixed(3)} CPU s/min at a 1 s interval`,
  );
}

/** A bare node:http server that answers every request with the same bytes (argv: the body's file, the variant). */
const BARE_SERVER = `
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
const body = readFileSync(process.argv[1]);
const variant = process.argv[2];
const zipped = gzipSync(body);
const type = "text/plain; version=0.0.4; charset=utf-8";
const server = createServer((request, response) => {
  if (variant === "identity") return response.writeHead(200, { "Content-Type": type, "Content-Length": body.length }).end(body);
  const gz = variant === "gzip made per request (level 1)" ? gzipSync(body, { level: 1 }) : zipped;
  response.writeHead(200, { "Content-Type": type, "Content-Encoding": "gzip", "Content-Length": gz.length }).end(gz);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;
const BARE_VARIANTS = ["identity", "gzip made per request (level 1)", "gzip made once"] as const;

// The floor under any HTTP endpoint in Node.js: a bare node:http server's CPU per request, one a second, with /metrics' own body,
// as is and gzipped (made at each request, or once): whether offering gzip would cost the daemon or save it CPU.
async function httpFloor(body: Buffer, spaced: number): Promise<void> {
  const dir = makeTestDir("bench-metrics-floor");
  const file = `${dir}/body`;
  writeFileSync(file, body);
  for (const variant of BARE_VARIANTS) {
    const server = spawn(process.execPath, ["--input-type=module", "-e", BARE_SERVER, file, variant], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const port = await new Promise<number>((resolve) => server.stdout!.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim()))));
      const client = new PrometheusLikeClient(`http://127.0.0.1:${port}/`);
      let wire = 0;
      for (let i = 0; i < SCRAPES; i++) wire = (await client.scrape()).wireBytes;
      const { meanMs, errorMs } = await cpuPerSpacedScrape(server.pid!, () => client.scrape(), spaced);
      client.close();
      console.log(
        `a bare node:http server answering /metrics' ${(body.length / 1024).toFixed(0)} KiB, ${variant} (${(wire / 1024).toFixed(1)} KiB on the wire), one request a second (${spaced} requests), ${load()}: ` +
          `${meanMs.toFixed(2)} ± ${errorMs.toFixed(2)} ms of CPU per request (${((meanMs * 60) / 1000).toFixed(3)} CPU s/min)`,
      );
    } finally {
      server.kill();
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

interface RunFigures {
  cpuPerMinute: number;
  memory: Memory;
}

// One daemon with 50 running programs, in one mode: its CPU and memory over MEASURE_SECONDS; with `spaced`, the scrape costs first.
export async function run(mode: Mode, spaced = 0, scanIntervalSec = 1): Promise<RunFigures> {
  const dir = makeTestDir("bench-metrics");
  const port = await freePort();
  const policies = Array.from({ length: WATCHED }, (_, i) => {
    const program = uniqueSleep(dir, `m${RUN_ID}${i}`);
    return `[process.m${RUN_ID}${i}]\ncommand = ["${program}", "600"]\nautostart = true\ncpu_limit = 90\nmemory_limit_mb = 500\n`;
  }).join("\n");
  const metrics = mode === "no [metrics]" ? "" : `[metrics]\nlisten = "127.0.0.1:${port}"\n\n`;
  const daemon = await startDaemon(`[settings]\ninterval = ${scanIntervalSec.toFixed(1)}\n\n${metrics}${policies}`, { dir });
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= WATCHED, 30_000, () => "programs did not start");
    const pid = daemon.process.pid!;
    if (spaced > 0 && scanIntervalSec !== 1) {
      await spacedScrapeCost(url, pid, spaced, `${scanIntervalSec} s scans: the same body served again at most scrapes`);
      return { cpuPerMinute: Number.NaN, memory: memory(pid) };
    }
    if (spaced > 0) {
      await scrapeCosts(url, pid, spaced);
      const client = new PrometheusLikeClient(url);
      await httpFloor((await client.scrape()).body, spaced);
      client.close();
    }
    await sleep(SETTLE_MS);
    let scraping = mode === "endpoint, scraped every 1 s";
    const client = new PrometheusLikeClient(url);
    const scraper = (async () => {
      while (scraping) {
        await client.scrape();
        await sleep(SCRAPE_INTERVAL_MS);
      }
    })();
    const before = cpuSeconds(pid);
    const start = performance.now();
    await sleep(MEASURE_SECONDS * 1000);
    const after = cpuSeconds(pid);
    const figures = { cpuPerMinute: (after - before) / ((performance.now() - start) / 60_000), memory: memory(pid) };
    scraping = false;
    await scraper;
    client.close();
    return figures;
  } finally {
    await daemon.cleanup();
  }
}

// CPU time of one rendering of /metrics, 50 policies, in this process (a count of CPU time, less
// sensitive to the machine's load than a clock), and the young-generation collections it causes:
// what each scrape costs the daemon before HTTP. As served: nothing changed (the same bytes), a
// scan observed (an idle daemon's programs unchanged: the histogram formatted again), one program's
// memory changed as well; and every metric formatted (prom-client's registry.metrics()).
export async function cpuPerRender(): Promise<void> {
  const source = new TestSource();
  source.views = Array.from({ length: WATCHED }, (_, i) => view(`program${i}`, { pid: 1000 + i, state: "running", cpuLimit: 90, memoryLimitBytes: 500 * 1024 * 1024, rssBytes: 1e7 }));
  const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, new MetricsTally(100));
  const renders = 1000;
  const cpuMs = async (render: (i: number) => Promise<unknown>): Promise<string> => {
    for (let i = 0; i < 100; i++) await render(i);
    let scavenges = 0;
    const observer = new PerformanceObserver((list) => (scavenges += list.getEntries().filter((entry) => (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length));
    observer.observe({ entryTypes: ["gc"] });
    const before = process.cpuUsage();
    for (let i = 0; i < renders; i++) await render(i);
    const used = process.cpuUsage(before);
    await sleep(10);
    observer.disconnect();
    return `${((used.user + used.system) / 1000 / renders).toFixed(3)} ms (${scavenges} scavenges)`;
  };
  const unchanged = await cpuMs(() => built.bytes());
  const scanned = await cpuMs(() => {
    built.observeScan(0.001);
    return built.bytes();
  });
  const oneChanged = await cpuMs((i) => {
    built.observeScan(0.001);
    source.views[0] = { ...source.views[0]!, rssBytes: 1e7 + i };
    return built.bytes();
  });
  const all = await cpuMs(() => built.registry.metrics());
  console.log(
    `rendering /metrics, ${WATCHED} policies, in process (${renders} renders), ${load()}, CPU each: as served, nothing changed ${unchanged}; a scan observed ${scanned}; ` +
      `and one program's memory changed ${oneChanged}; every metric formatted (prom-client's registry.metrics()) ${all}`,
  );
}

const median = (values: number[]) => percentile(values, 50);

export async function benchMetrics(rounds = DEFAULT_ROUNDS, spaced = DEFAULT_SPACED_SCRAPES): Promise<void> {
  console.log(`\nmetrics: the daemon watching ${WATCHED} running programs (CPU and memory limits), 1 s scans`);
  await cpuPerRender();
  await run("endpoint, scraped every 1 s", spaced);
  await run("endpoint, scraped every 1 s", spaced, SLOW_SCAN_INTERVAL_SEC);
  // The three modes in turn, several rounds, so that a change of the machine's load shows as a spread rather than a difference.
  const modes = ["no [metrics]", "endpoint, not scraped", "endpoint, scraped every 1 s"] as const;
  const figures = new Map<Mode, RunFigures[]>(modes.map((mode) => [mode, []]));
  const loads: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      loads.push(loadavg()[0]!);
      figures.get(mode)!.push(await run(mode));
    }
  }
  if (rounds === 0) return;
  const list = (values: number[], digits: number) => values.map((value) => value.toFixed(digits)).join(", ");
  console.log(`the daemon over ${MEASURE_SECONDS} s in each mode, ${rounds} rounds alternating, load average ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}:`);
  for (const mode of modes) {
    const runs = figures.get(mode)!;
    const anon = runs.map((r) => r.memory.anonMb);
    console.log(
      `  ${mode}: ${list(
        runs.map((r) => r.cpuPerMinute),
        3,
      )} CPU s/min; RSS ${list(
        runs.map((r) => r.memory.rssMb),
        1,
      )} MB, of it anonymous ${list(anon, 1)} MB (median ${median(anon).toFixed(1)}; PSS of it ${list(
        runs.map((r) => r.memory.pssAnonMb),
        1,
      )})`,
    );
  }
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { rounds: { type: "string" }, spaced: { type: "string" } } });
  await benchMetrics(Number(values.rounds ?? DEFAULT_ROUNDS), Number(values.spaced ?? DEFAULT_SPACED_SCRAPES));
}
