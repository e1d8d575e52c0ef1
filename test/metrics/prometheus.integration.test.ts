// The metrics endpoint scraped by a real Prometheus (scrape interval 1 s): a
// watched program crashes and Prometheus sees selfheal_restarts_total go up by
// one; promtool accepts the endpoint's output and the shipped alert rules;
// every PromQL expression of the shipped Grafana dashboard is accepted by
// Prometheus's query API. Only the test's own programs are signalled.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";
import { freePort, get, promtool, startPrometheus, type TestServer } from "./servers.js";

const REPO = resolve(import.meta.dirname, "../..");
const RULES = join(REPO, "docs/prometheus/selfheal.rules.yml");
const DASHBOARD = join(REPO, "docs/grafana/selfheal.json");
const WAIT_MS = 60_000;

let daemon: RunningDaemon | null = null;
let prometheus: TestServer | null = null;

afterEach(async () => {
  await prometheus?.stop();
  prometheus = null;
  await daemon?.cleanup();
  daemon = null;
});

// Every `expr` of the dashboard's panels.
function dashboardExpressions(dashboard: { panels: Array<{ targets?: Array<{ expr?: string }> }> }): string[] {
  return dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [target.expr])));
}

// Grafana's variables as Grafana would fill them in for "All".
function asGrafanaSends(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*").replaceAll("$name", ".*");
}

describe("metrics for Prometheus", () => {
  it("is scraped by Prometheus, which sees a crash's restart; promtool accepts the output and the rules; the dashboard's queries are valid", async () => {
    const dir = makeTestDir("prom");
    const program = uniqueSleep(dir, "shpromcrash");
    const port = await freePort();
    daemon = await startDaemon(
      `[settings]\ninterval = 0.2\n\n[metrics]\nlisten = "127.0.0.1:${port}"\n\n[process.shpromcrash]\ncommand = ["${program}", "300"]\nautostart = true\n`,
      { dir },
    );
    await waitFor(() => daemon!.stderr().includes(`selfheal: metrics at http://127.0.0.1:${port}/metrics`), WAIT_MS, () => daemon!.stderr());
    const started = await daemon.waitForEvent("started", (e) => e.name === "shpromcrash");

    // The endpoint's output, in the text format: promtool's lint passes.
    const text = await get(`http://127.0.0.1:${port}/metrics`);
    expect(text?.status).toBe(200);
    expect(text?.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    const lint = promtool(["check", "metrics"], text!.body);
    expect(lint.output).toBe("");
    expect(lint.status).toBe(0);
    // OpenMetrics when asked for, as Prometheus asks.
    const open = await get(`http://127.0.0.1:${port}/metrics`, { Accept: "application/openmetrics-text;version=1.0.0" });
    expect(open?.type).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(open?.body.endsWith("# EOF\n")).toBe(true);

    const rules = promtool(["check", "rules", RULES]);
    expect(rules.output).toContain("SUCCESS");
    expect(rules.status).toBe(0);

    prometheus = await startPrometheus(dir, `127.0.0.1:${port}`, [RULES]);
    const server = prometheus as Awaited<ReturnType<typeof startPrometheus>>;
    const restarts = async (): Promise<number | null> => {
      const answer = await server.query('selfheal_restarts_total{name="shpromcrash"}');
      const value = answer.data?.result[0]?.value[1];
      return value === undefined ? null : Number(value);
    };
    let before: number | null = null;
    await waitFor(async () => (before = await restarts()) !== null, WAIT_MS, () => `Prometheus never scraped selfheal:\n${server.output()}`);
    expect(before).toBe(0);

    process.kill(started.pid, "SIGSEGV");
    await daemon.waitForEvent("restarted", (e) => e.oldPid === started.pid);
    let after: number | null = null;
    await waitFor(async () => (after = await restarts()) === before! + 1, WAIT_MS, () => `selfheal_restarts_total stayed ${after}`);
    const crashes = await server.query('selfheal_crashes_total{name="shpromcrash"}');
    expect(crashes.data?.result.map((r) => [r.metric.signal, r.value[1]])).toEqual([["SIGSEGV", "1"]]);
    // Prometheus scraped it in OpenMetrics (its first choice) without a problem.
    const up = await server.query('up{job="selfheal"}');
    expect(up.data?.result[0]?.value[1]).toBe("1");

    // The rules loaded into this Prometheus are evaluated without an error.
    await waitFor(
      async () => {
        const answer = JSON.parse((await get(`${server.url}/api/v1/rules`))!.body) as { data: { groups: Array<{ rules: Array<{ health: string }> }> } };
        const health = answer.data.groups.flatMap((group) => group.rules.map((rule) => rule.health));
        return health.length === 5 && health.every((one) => one === "ok");
      },
      WAIT_MS,
      () => `the rules are not all healthy: ${server.output()}`,
    );

    // The dashboard parses, and Prometheus accepts each of its queries.
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Parameters<typeof dashboardExpressions>[0];
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThanOrEqual(10);
    for (const expr of expressions) {
      const answer = await server.query(asGrafanaSends(expr));
      expect({ expr, status: answer.status, error: answer.error }).toEqual({ expr, status: "success", error: undefined });
    }
    // The memory panel has this program's figure.
    const memory = await server.query('selfheal_resident_memory_bytes{name="shpromcrash"}');
    expect(Number(memory.data?.result[0]?.value[1])).toBeGreaterThan(0);
  });
});
