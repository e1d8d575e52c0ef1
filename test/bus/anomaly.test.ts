// An anomaly found by the detectors reaches the bus: AnomalyDetected with its
// details, ListAnomalies, AnomalyCount, and Health degraded for ten minutes.
// The leaker is a small node script of this test's own, matched by a marker.
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busctl,
  connectClient,
  MANAGER_INTERFACE,
  plain,
  startPrivateBus,
  startSelfheal,
  waitForProcess,
  type BusClient,
  type PrivateBus,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const LEAKER = resolve(import.meta.dirname, "fixtures/leak.mjs");
const MARKER = `sbanom-${Math.random().toString(16).slice(2, 8)}`;
const DETECTION_TIMEOUT_MS = 30_000;
let bus: PrivateBus;
let daemon: SelfhealDaemon;
let client: BusClient;
let leakerPid = 0;

beforeAll(async () => {
  bus = await startPrivateBus();
  daemon = await startSelfheal(bus, {
    config: `[settings]
interval = 0.5

[process.leaky]
command = ["${process.execPath}", "${LEAKER}", "15", "120", "40", "${MARKER}"]
match = "/leak\\\\.mjs 15 120 40 ${MARKER}/"
restart = "never"
scope = "process"

[process.leaky.leak]
min_duration = 3
min_growth_mb = 10
`,
  });
  // Started once the client listens: its one AnomalyDetected must not go out before.
  client = await connectClient(bus);
  await client.call("StartProcess", "s", ["leaky"]);
  leakerPid = (await waitForProcess(client, "leaky", (record) => record.pid > 0)).pid;
});

afterAll(async () => {
  client?.close();
  // Stops the leaker through the daemon first.
  await daemon?.cleanup();
  if (leakerPid > 0) {
    try {
      process.kill(leakerPid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await bus?.stop();
});

describe("a memory leak", () => {
  it("AnomalyDetected(name, pid, memory_leak, details) with detail, action and the figures", async () => {
    const signal = await client.signals.waitFor("AnomalyDetected", ([name]) => name === "leaky", DETECTION_TIMEOUT_MS);
    const [name, pid, type, details] = plain(signal.args) as [string, number, string, Record<string, unknown>];
    expect({ name, pid, type }).toEqual({ name: "leaky", pid: leakerPid, type: "memory_leak" });
    expect(details.detail).toMatch(/^RSS grew/);
    expect(details.action).toBe("notified");
    expect(typeof details.time_usec).toBe("number");
    const figures = Object.entries(details).filter(([key]) => !["detail", "action", "time_usec"].includes(key));
    expect(figures.length).toBeGreaterThan(0);
    for (const [, value] of figures) expect(typeof value).toBe("number");
  });

  it("ListAnomalies has it, most recent first, with its figures", async () => {
    const [records] = (await client.call("ListAnomalies")) as [unknown[]];
    const [first] = plain(records) as Array<Record<string, unknown>>;
    expect(first).toMatchObject({ process: "leaky", pid: leakerPid, type: "memory_leak", action: "notified" });
    expect(Object.keys(first!.figures as object).length).toBeGreaterThan(0);
  });

  it("AnomalyCount and Health (degraded) change by PropertiesChanged", async () => {
    await client.signals.waitFor("PropertiesChanged", ([iface, props]) => iface === MANAGER_INTERFACE && typeof (plain(props) as Record<string, unknown>).AnomalyCount === "number");
    await client.signals.waitFor("PropertiesChanged", ([, props]) => (plain(props) as Record<string, unknown>).Health === "degraded");
    const health = await busctl(bus, ["get-property", "io.github.SelfHeal1", "/io/github/SelfHeal1", MANAGER_INTERFACE, "Health"]);
    expect(health.stdout.trim()).toBe('s "degraded"');
  });
});
