// Every metric selfheal exports: name, type, help text and labels, read from
// the rendered exposition (what Prometheus sees), against the table below;
// and the values each one takes from the engine's views, events and scans.
import { describe, expect, it } from "vitest";

import type { ScanFigures } from "../../daemon/metrics/source.js";
import { Registry } from "prom-client";
import { buildRegistry } from "../../daemon/metrics/registry.js";
import { MetricsTally } from "../../daemon/metrics/tally.js";
import { wantsOpenMetrics } from "../../daemon/metrics/http.js";
import { sample } from "../helpers/fakes.js";
import { TestSource, view } from "./testSource.js";

const MB = 1024 * 1024;

/** name, type, help, labels: the contract dashboards and alert rules are written against. */
const EXPECTED: Array<[string, string, string, string[]]> = [
  ["selfheal_up", "gauge", "1 when the policy's program is running, 0 when it is not.", ["name"]],
  ["selfheal_state", "gauge", "1 for the state the policy's program is in, 0 for the others (running, stopped, crashed, backoff, cooldown, exited).", ["name", "state"]],
  ["selfheal_restarts_total", "counter", "Restarts of the policy's program done by the daemon since the daemon started.", ["name"]],
  [
    "selfheal_crashes_total",
    "counter",
    'Crashes of the policy\'s program, by the signal that ended it ("none": a non-zero exit code; "unknown": an adopted program, whose end status cannot be known).',
    ["name", "signal"],
  ],
  ["selfheal_cpu_seconds_total", "counter", "CPU time used by the policy's program (its main process) while the daemon watched it, seconds.", ["name"]],
  ["selfheal_cpu_percent", "gauge", "CPU use of the policy's program at the last scan, percent of one core (process or whole tree, as its limit is checked).", ["name"]],
  ["selfheal_resident_memory_bytes", "gauge", "Resident memory of the policy's program at the last scan (process or whole tree, as its limit is checked).", ["name"]],
  ["selfheal_memory_limit_bytes", "gauge", "The policy's memory limit; only policies that have one.", ["name"]],
  ["selfheal_cpu_limit_percent", "gauge", "The policy's CPU limit, percent of one core; only policies that have one.", ["name"]],
  ["selfheal_cooldown_active", "gauge", "1 while the policy's restarts are paused by its cooldown (a crash loop), 0 otherwise.", ["name"]],
  ["selfheal_cooldown_remaining_seconds", "gauge", "Seconds until the policy's cooldown ends (0 when none is in force).", ["name"]],
  [
    "selfheal_anomalies_total",
    "counter",
    'Anomalies detected, by kind (memory_leak, fork_bomb, cpu_spike); name is "" for a process outside the policies (the global watch).',
    ["name", "kind"],
  ],
  ["selfheal_policies", "gauge", "Policies in force.", []],
  ["selfheal_zombies", "gauge", "Zombie processes of the user at the last scan.", []],
  ["selfheal_zombies_reaped_total", "counter", "Zombie processes reaped by cleanups.", []],
  ["selfheal_notifications_sent_total", "counter", "Alerts sent, by channel (email, desktop).", ["channel"]],
  ["selfheal_notifications_suppressed_total", "counter", "Alerts held back by the rate limit (summarised in a digest), by channel (email, desktop).", ["channel"]],
  ["selfheal_scan_duration_seconds", "histogram", "Time to read the process table (/proc) once, seconds.", []],
  ["selfheal_processes_scanned", "gauge", "Processes in the last scan of /proc.", []],
  ["selfheal_dbus_calls_total", "counter", "D-Bus method calls answered, by method.", ["method"]],
  ["selfheal_event_log_write_errors_total", "counter", "Events that could not be written to the event log (full disk, read-only folder).", []],
  ["selfheal_build_info", "gauge", "Always 1; the daemon's version is the label.", ["version"]],
];

/** One metric family of an exposition: its HELP, TYPE, and each sample's name, labels and value. */
interface Family {
  help: string;
  type: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

// Parse the Prometheus text format as a scraper would (enough for prom-client's output).
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => families.get(name) ?? families.set(name, { help: "", type: "", samples: [] }).get(name)!;
  const unescape = (value: string) => value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
  for (const line of text.split("\n")) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      family(meta[2]!)[meta[1] === "HELP" ? "help" : "type"] = meta[1] === "HELP" ? unescape(meta[3]!) : meta[3]!;
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of match[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[key!] = unescape(value!);
    const base = [...families.keys()].filter((name) => match[1]!.startsWith(name)).sort((a, b) => b.length - a.length)[0] ?? match[1]!;
    family(base).samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return families;
}

// A source with two policies, one running and in cooldown with limits, and one stopped.
function populated(): { source: TestSource; tally: MetricsTally } {
  const source = new TestSource();
  const tally = new MetricsTally(100);
  source.views = [
    view("editor", { pid: 42, state: "running", cpuPercent: 12.5, rssBytes: 80 * MB, cpuLimit: 50, memoryLimitBytes: 200 * MB, restarts: 3, cooldownRemainingSec: 30, cooldownUntilMs: Date.now() + 30_000 }),
    view("player"),
  ];
  source.apps.set("editor", "org.gnome.TextEditor.desktop");
  source.subscribe((event) => tally.observe(event, new Set(source.views.map((v) => v.name))));
  source.zombies = 2;
  source.calls.set("ListProcesses", 7);
  source.writeErrors = 1;
  source.counts[0] = { channel: "email", sent: 4, suppressed: 9 };
  const base = { timeMs: 0, message: "" };
  const exit = { pid: 42, exitCode: null, statusKnown: true, willRestart: true };
  source.emit({ ...base, kind: "crashed", name: "editor", ...exit, signal: "SIGSEGV" });
  source.emit({ ...base, kind: "crashed", name: "editor", ...exit, signal: "SIGSEGV" });
  source.emit({ ...base, kind: "crashed", name: "editor", ...exit, exitCode: 3, signal: null });
  source.emit({ ...base, kind: "crashed", name: "player", ...exit, signal: null, statusKnown: false });
  source.emit({ ...base, kind: "anomaly", name: "editor", pid: 42, type: "memory_leak", detail: "", action: "notified", figures: {} });
  source.emit({ ...base, kind: "anomaly", name: "some-other-program", pid: 77, type: "fork_bomb", detail: "", action: "contained", figures: {} });
  source.emit({ ...base, kind: "zombies-cleaned", reaped: 5, remaining: 1 });
  const scan = (cpuTicks: number, startTicks = 420) => {
    const processes = new Map([[42, sample(42, { cpuTicks, startTicks })]]);
    return { snapshot: { timeMs: 0, processes, childrenOf: () => [] }, durationSec: 0.001 };
  };
  // 250 ticks at 100 a second: 2.5 s after the first scan; a new process (other start time) is a new baseline.
  const scans: ScanFigures[] = [scan(1000), scan(1250), scan(7, 999), scan(57, 999)];
  for (const figures of scans) tally.observeScan(figures.snapshot, source.views);
  return { source, tally };
}

describe("metrics catalog", () => {
  it("renders every metric with its name, type, help text and labels, and no other selfheal_ metric", async () => {
    const { source, tally } = populated();
    const built = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, tally);
    built.observeScan(0.0012);
    const families = parseExposition(await built.registry.metrics());
    for (const [name, type, help, labels] of EXPECTED) {
      const family = families.get(name);
      expect(family, name).toBeDefined();
      expect([family!.type, family!.help], name).toEqual([type, help]);
      expect(family!.samples.length, `${name} has samples`).toBeGreaterThan(0);
      for (const one of family!.samples) {
        const own = Object.keys(one.labels).filter((label) => label !== "le");
        // A policy that watches a desktop app carries it as `app` too, wherever it is named.
        const expected = labels.includes("name") && one.labels.name === "editor" ? [...labels, "app"] : labels;
        expect(own.sort(), `${one.name} labels`).toEqual([...expected].sort());
        if (own.includes("app")) expect(one.labels.app).toBe("org.gnome.TextEditor.desktop");
      }
    }
    const ours = [...families.keys()].filter((name) => name.startsWith("selfheal_") && !/^selfheal_(process|nodejs)_/.test(name));
    expect(ours.sort()).toEqual(EXPECTED.map(([name]) => name).sort());
  });

  it("adds prom-client's default process and Node.js metrics under the selfheal_ prefix", async () => {
    const { source, tally } = populated();
    const families = parseExposition(await buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, tally).registry.metrics());
    for (const name of ["selfheal_process_cpu_seconds_total", "selfheal_process_resident_memory_bytes", "selfheal_nodejs_heap_size_used_bytes"]) {
      expect(families.has(name), name).toBe(true);
    }
    expect([...families.keys()].filter((name) => !name.startsWith("selfheal_"))).toEqual([]);
  });

  it("takes each figure from the last scan, the engine's views and its events", async () => {
    const { source, tally } = populated();
    const families = parseExposition(await buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, tally).registry.metrics());
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((one) => one.name === name && Object.entries(labels).every(([k, v]) => one.labels[k] === v))?.value;
    expect(value("selfheal_up", { name: "editor" })).toBe(1);
    expect(value("selfheal_up", { name: "player" })).toBe(0);
    expect(value("selfheal_state", { name: "editor", state: "running" })).toBe(1);
    expect(value("selfheal_state", { name: "editor", state: "cooldown" })).toBe(0);
    expect(families.get("selfheal_state")!.samples.length).toBe(12);
    expect(value("selfheal_restarts_total", { name: "editor" })).toBe(3);
    expect(value("selfheal_restarts_total", { name: "player" })).toBe(0);
    expect(value("selfheal_crashes_total", { name: "editor", signal: "SIGSEGV" })).toBe(2);
    expect(value("selfheal_crashes_total", { name: "editor", signal: "none" })).toBe(1);
    expect(value("selfheal_crashes_total", { name: "player", signal: "unknown" })).toBe(1);
    expect(value("selfheal_cpu_seconds_total", { name: "editor" })).toBe(3);
    expect(value("selfheal_cpu_percent", { name: "editor" })).toBe(12.5);
    expect(value("selfheal_resident_memory_bytes", { name: "editor" })).toBe(80 * MB);
    expect(value("selfheal_memory_limit_bytes", { name: "editor" })).toBe(200 * MB);
    expect(value("selfheal_memory_limit_bytes", { name: "player" })).toBeUndefined();
    expect(value("selfheal_cpu_limit_percent", { name: "editor" })).toBe(50);
    expect(value("selfheal_cooldown_active", { name: "editor" })).toBe(1);
    expect(value("selfheal_cooldown_active", { name: "player" })).toBe(0);
    expect(value("selfheal_cooldown_remaining_seconds", { name: "editor" })).toBe(30);
    expect(value("selfheal_anomalies_total", { name: "editor", kind: "memory_leak" })).toBe(1);
    expect(value("selfheal_anomalies_total", { name: "", kind: "fork_bomb" })).toBe(1);
    expect(value("selfheal_policies")).toBe(2);
    expect(value("selfheal_zombies")).toBe(2);
    expect(value("selfheal_zombies_reaped_total")).toBe(5);
    expect(value("selfheal_notifications_sent_total", { channel: "email" })).toBe(4);
    expect(value("selfheal_notifications_suppressed_total", { channel: "email" })).toBe(9);
    expect(value("selfheal_processes_scanned")).toBe(1);
    expect(value("selfheal_dbus_calls_total", { method: "ListProcesses" })).toBe(7);
    expect(value("selfheal_event_log_write_errors_total")).toBe(1);
    expect(value("selfheal_build_info", { version: "9.8.7" })).toBe(1);
  });

  it("drops the series of a removed policy", async () => {
    const { source, tally } = populated();
    source.views = [source.views[1]!];
    tally.forgetAllBut(new Set(["player"]));
    const text = await buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, tally).registry.metrics();
    expect(text).not.toContain('name="editor"');
    expect(text).toContain('selfheal_anomalies_total{name="",kind="fork_bomb"} 1');
  });

  it("renders OpenMetrics in a registry of its own, leaving the text format's counter names whole", async () => {
    const { source, tally } = populated();
    const prometheus = buildRegistry(Registry.PROMETHEUS_CONTENT_TYPE, source, tally).registry;
    const openMetrics = buildRegistry(Registry.OPENMETRICS_CONTENT_TYPE, source, tally).registry;
    const open = await openMetrics.metrics();
    expect(open).toContain("# TYPE selfheal_restarts counter");
    expect(open).toContain('selfheal_restarts_total{name="editor",app="org.gnome.TextEditor.desktop"} 3');
    expect(open.endsWith("# EOF\n")).toBe(true);
    const text = await prometheus.metrics();
    expect(text).toContain("# TYPE selfheal_restarts_total counter");
  });

  it.each([
    ["application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", true],
    ["text/plain;version=0.0.4", false],
    [undefined, false],
    ["*/*", false],
    ["text/plain, application/openmetrics-text;q=0.5", false],
    ["application/openmetrics-text;q=0", false],
  ])("Accept %j asks for OpenMetrics: %s", (accept, expected) => {
    expect(wantsOpenMetrics(accept)).toBe(expected);
  });
});
