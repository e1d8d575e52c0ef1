// The /metrics endpoint: formats by Accept, other paths and methods refused,
// and an address in use told in the log while the daemon runs on.
import { createServer, type Server } from "node:net";

import { afterEach, describe, expect, it, vi } from "vitest";

import { MetricsExporter } from "../../daemon/metrics/exporter.js";
import { freePort } from "./servers.js";
import { TestSource, view } from "./testSource.js";

let exporter: MetricsExporter | null = null;
let blocker: Server | null = null;

afterEach(async () => {
  await exporter?.stop();
  exporter = null;
  await new Promise((done) => (blocker ? blocker.close(done) : done(undefined)));
  blocker = null;
  vi.restoreAllMocks();
});

// An exporter of one running policy, listening on a free loopback port.
async function listening(): Promise<string> {
  const source = new TestSource();
  source.views = [view("editor", { pid: 42, state: "running" })];
  exporter = new MetricsExporter(source);
  const port = await freePort();
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  await exporter.configure({ listen: { host: "127.0.0.1", port }, textfile: null });
  return `http://127.0.0.1:${port}`;
}

describe("the /metrics endpoint", () => {
  it("serves the text format, OpenMetrics when asked, HEAD without a body", async () => {
    const url = await listening();
    const text = await fetch(`${url}/metrics`);
    expect(text.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await text.text()).toContain('selfheal_up{name="editor"} 1');
    const open = await fetch(`${url}/metrics`, { headers: { Accept: "application/openmetrics-text; version=1.0.0" } });
    expect(open.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(await open.text()).toMatch(/selfheal_restarts_total\{name="editor"\} 0\n[\s\S]*# EOF\n$/);
    // The text format again after OpenMetrics: its counters keep their _total.
    expect(await (await fetch(`${url}/metrics`)).text()).toContain("# TYPE selfheal_restarts_total counter");
    const head = await fetch(`${url}/metrics`, { method: "HEAD" });
    expect([head.status, await head.text()]).toEqual([200, ""]);
  });

  it("answers 404 elsewhere and 405 to other methods", async () => {
    const url = await listening();
    const other = await fetch(`${url}/`);
    expect([other.status, await other.text()]).toEqual([404, "selfheal serves its metrics at /metrics\n"]);
    const post = await fetch(`${url}/metrics`, { method: "POST", body: "x" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD"]);
  });

  it("says in the log that the address is taken, and goes on without an endpoint", async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((done) => blocker!.listen(port, "127.0.0.1", done));
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    exporter = new MetricsExporter(new TestSource());
    await exporter.configure({ listen: { host: "127.0.0.1", port }, textfile: null });
    expect(exporter.url).toBeNull();
    expect(log.mock.calls.map((call) => String(call[0])).join("\n")).toContain(`selfheal: metrics: cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`);
  });

  it("warns that an address other than loopback shows the programs to whoever reaches it", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    exporter = new MetricsExporter(new TestSource());
    await exporter.configure({ listen: { host: "0.0.0.0", port: await freePort() }, textfile: null });
    expect(log.mock.calls.map((call) => String(call[0])).join("\n")).toContain("(not a loopback address: whoever can reach it sees the names and figures of your programs)");
  });
});

describe("a scrape that fails", () => {
  it("answers 500 each time and is logged once per kind of error", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const source = new TestSource();
    source.units = () => {
      throw new Error("a bug in a view");
    };
    exporter = new MetricsExporter(source);
    const port = await freePort();
    await exporter.configure({ listen: { host: "127.0.0.1", port }, textfile: null });
    for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(500);
    expect(log.mock.calls.filter((call) => String(call[0]).includes("a scrape failed"))).toHaveLength(1);
  });
});
