// The textfile variant: the daemon writes its metrics to a .prom file after
// every scan (atomically, readable by node_exporter's own user), and a real
// node_exporter's textfile collector serves them, a crash's restart included.
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

import { afterEach, describe, expect, it } from "vitest";

import { makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";
import { get, startNodeExporter, type TestServer } from "./servers.js";

const WAIT_MS = 60_000;
let daemon: RunningDaemon | null = null;
let exporter: TestServer | null = null;

afterEach(async () => {
  await exporter?.stop();
  exporter = null;
  await daemon?.cleanup();
  daemon = null;
});

// One sample's value in an exposition, or null.
function valueOf(text: string, series: string): number | null {
  const line = text.split("\n").find((one) => one.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe("metrics for node_exporter's textfile collector", () => {
  it("writes the file after every scan, and node_exporter serves it, a restart included", async () => {
    const dir = makeTestDir("textfile");
    const textfiles = join(dir, "textfile");
    mkdirSync(textfiles);
    const program = uniqueSleep(dir, "shtextcrash");
    daemon = await startDaemon(
      `[settings]\ninterval = 0.2\n\n[metrics]\ntextfile = "${join(textfiles, "selfheal.prom")}"\n\n[process.shtextcrash]\ncommand = ["${program}", "300"]\nautostart = true\n`,
      { dir },
    );
    const started = await daemon.waitForEvent("started", (e) => e.name === "shtextcrash");
    exporter = await startNodeExporter(textfiles);
    const url = `${exporter.url}/metrics`;
    let text = "";
    const series = 'selfheal_restarts_total{name="shtextcrash"}';
    await waitFor(async () => valueOf((text = (await get(url))?.body ?? ""), series) === 0, WAIT_MS, () => `node_exporter never served ${series}:\n${text}`);
    expect(valueOf(text, 'selfheal_up{name="shtextcrash"}')).toBe(1);
    expect(valueOf(text, "node_textfile_scrape_error")).toBe(0);
    // The daemon's own figures: its scans timed, the processes it read.
    expect(valueOf(text, "selfheal_scan_duration_seconds_count")).toBeGreaterThan(0);
    expect(valueOf(text, "selfheal_processes_scanned")).toBeGreaterThan(1);
    // Only the textfile: no endpoint was opened.
    expect(daemon.stderr()).not.toContain("selfheal: metrics at");

    process.kill(started.pid, "SIGSEGV");
    await daemon.waitForEvent("restarted", (e) => e.oldPid === started.pid);
    await waitFor(async () => valueOf((text = (await get(url))?.body ?? ""), series) === 1, WAIT_MS, () => `${series} did not reach 1:\n${text}`);
    expect(valueOf(text, 'selfheal_crashes_total{name="shtextcrash",signal="SIGSEGV"}')).toBe(1);

    // Written whole, for others to read; no temporary file is left in the collector's folder.
    expect(statSync(join(textfiles, "selfheal.prom")).mode & 0o777).toBe(0o644);
    await daemon.stop();
    expect(readdirSync(textfiles)).toEqual(["selfheal.prom"]);
  });
});
