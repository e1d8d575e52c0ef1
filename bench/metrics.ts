// The metrics' cost: the time to scrape /metrics with 50 policies, and the
// daemon's CPU and RSS with no [metrics], with the endpoint and no scraper, and
// with a scrape every second (as a Prometheus with a 1 s interval would).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Registry } from "prom-client";
import { buildRegistry } from "../daemon/metrics/registry.js";
import { MetricsTally } from "../daemon/metrics/tally.js";
import { TestSource, view } from "../test/metrics/testSource.js";
import { makeTestDir, startDaemon, uniqueSleep, waitFor } from "../test/helpers/daemon.js";
import { freePort } from "../test/metrics/servers.js";
import { RUN_ID } from "./engine.js";
import { summarize } from "./stats.js";

const WATCHED = 50;
const SCRAPES = 300;
const MEASURE_SECONDS = 40;
const SETTLE_MS = 5000;
const SCRAPE_INTERVAL_MS = 1000;
/** Prometheus's own Accept header (2.42): OpenMetrics first. */
const PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

export type Mode = "no [metrics]" | "endpoint, not scraped" | "endpoint, scraped every 1 s";

// CPU seconds (user + system) and RSS of a process, from /proc.
function usage(pid: number): { cpuSec: number; rssMb: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "latin1"))?.[1] ?? 0);
  return { cpuSec: (Number(fields[11]) + Number(fields[12])) / 100, rssMb: rssKb / 1024 };
}

// One daemon with 50 running programs, in one mode; the scrape timings when it has an endpoint.
export async function run(mode: Mode, timeScrapes: boolean): Promise<void> {
  const dir = makeTestDir("bench-metrics");
  const port = await freePort();
  const policies = Array.from({ length: WATCHED }, (_, i) => {
    const program = uniqueSleep(dir, `m${RUN_ID}${i}`);
    return `[process.m${RUN_ID}${i}]\ncommand = ["${program}", "600"]\nautostart = true\ncpu_limit = 90\nmemory_limit_mb = 500\n`;
  }).join("\n");
  const metrics = mode === "no [metrics]" ? "" : `[metrics]\nlisten = "127.0.0.1:${port}"\n\n`;
  const daemon = await startDaemon(`[settings]\ninterval = 1.0\n\n${metrics}${policies}`, { dir });
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    await waitFor(() => daemon.events().filter((e) => e.kind === "started").length >= WATCHED, 30_000, () => "programs did not start");
    const pid = daemon.process.pid!;
    if (timeScrapes) {
      for (const [label, accept] of [["text format", "text/plain"], ["OpenMetrics (as Prometheus asks)", PROMETHEUS_ACCEPT]] as const) {
        const times: number[] = [];
        let bytes = 0;
        const cpuBefore = usage(pid).cpuSec;
        const burstStart = performance.now();
        for (let i = 0; i < SCRAPES; i++) {
          const start = performance.now();
          const body = await (await fetch(url, { headers: { Accept: accept } })).text();
          times.push(performance.now() - start);
          bytes = body.length;
        }
        const burst = { cpuSec: usage(pid).cpuSec - cpuBefore, sec: (performance.now() - burstStart) / 1000 };
        // The daemon's own rate over as long without scrapes, taken from the burst's CPU: what the scrapes cost (a count, not a clock).
        const quietBefore = usage(pid).cpuSec;
        await new Promise((r) => setTimeout(r, burst.sec * 1000));
        const perScrapeMs = ((burst.cpuSec - (usage(pid).cpuSec - quietBefore)) / SCRAPES) * 1000;
        const s = summarize(times.slice(20));
        console.log(
          `scrape of /metrics, ${WATCHED} policies, ${label} (${(bytes / 1024).toFixed(0)} KiB): median ${s.median.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms, min ${s.min.toFixed(2)} ms; ` +
            `the daemon's CPU per scrape (its CPU over ${SCRAPES} scrapes less its own over as long without): ${perScrapeMs.toFixed(2)} ms, i.e. ${((perScrapeMs * 60) / 1000).toFixed(3)} CPU s/min at a 1 s interval`,
        );
      }
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    let scraping = mode === "endpoint, scraped every 1 s";
    const scraper = (async () => {
      while (scraping) {
        await (await fetch(url, { headers: { Accept: PROMETHEUS_ACCEPT } })).text();
        await new Promise((r) => setTimeout(r, SCRAPE_INTERVAL_MS));
      }
    })();
    const before = usage(pid);
    const start = performance.now();
    await new Promise((r) => setTimeout(r, MEASURE_SECONDS * 1000));
    const after = usage(pid);
    scraping = false;
    await scraper;
    const minutes = (performance.now() - start) / 60_000;
    console.log(`${mode}: ${((after.cpuSec - before.cpuSec) / minutes).toFixed(3)} CPU s/min, RSS ${after.rssMb.toFixed(1)} MB (over ${MEASURE_SECONDS} s)`);
  } finally {
    await daemon.cleanup();
  }
}

// CPU time of one rendering of /metrics, 50 policies, in this process (a count of CPU time, less
// sensitive to the machine's load than a clock): what each scrape costs the daemon before HTTP.
// As served (each metric formatted again only when its series changed: an idle daemon's case),
// with one program's memory changed before each render, and every metric formatted (prom-client's registry.metrics()).
export async function cpuPerRender(): Promise<void> {
  const source = new TestSource();
  source.views = Array.from({ length: WATCHED }, (_, i) => view(`program${i}`, { pid: 1000 + i, state: "running", cpuLimit: 90, memoryLimitBytes: 500 * 1024 * 1024, rssBytes: 1e7 }));
  const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, new MetricsTally(100));
  const renders = 1000;
  const cpuMs = async (render: (i: number) => Promise<string>): Promise<string> => {
    for (let i = 0; i < 100; i++) await render(i);
    const before = process.cpuUsage();
    for (let i = 0; i < renders; i++) await render(i);
    const used = process.cpuUsage(before);
    return ((used.user + used.system) / 1000 / renders).toFixed(2);
  };
  const unchanged = await cpuMs(() => built.metrics());
  const oneChanged = await cpuMs((i) => {
    source.views[0] = { ...source.views[0]!, rssBytes: 1e7 + i };
    return built.metrics();
  });
  const all = await cpuMs(() => built.registry.metrics());
  console.log(`rendering /metrics, ${WATCHED} policies, in process (${renders} renders), ms of CPU each: as served, figures unchanged ${unchanged}; one program's memory changed ${oneChanged}; every metric formatted (prom-client's registry.metrics()) ${all}`);
}

export async function benchMetrics(): Promise<void> {
  console.log(`\nmetrics: the daemon watching ${WATCHED} running programs (CPU and memory limits), 1 s scans`);
  await cpuPerRender();
  await run("endpoint, scraped every 1 s", true);
  // Twice each, alternating, so that a change of the machine's load shows as a spread rather than a difference.
  for (let round = 0; round < 2; round++) {
    for (const mode of ["no [metrics]", "endpoint, not scraped", "endpoint, scraped every 1 s"] as const) await run(mode, false);
  }
}
