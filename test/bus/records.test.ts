// The a{sv} records and signal details: every key with its fixed D-Bus type.
import { describe, expect, it } from "vitest";
import type { UnitView } from "../../daemon/engine/engine.js";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { anomalyDetails, anomalyRecord, cooldownRecord, eventRecord, processRecord, zombieRecord } from "../../daemon/bus/records.js";
import { plainFromVariants, InvalidArgsError, MAX_INPUT_STRING } from "../../daemon/bus/variants.js";
import { policyInput } from "../../daemon/bus/policies.js";
import { Variant } from "../../daemon/bus/dbus.js";
import { PROCESS_RECORD_TYPES } from "../helpers/bus.js";

const view: UnitView = {
  name: "gedit",
  pid: 4242,
  startTicks: 42420,
  state: "running",
  cpuPercent: 12.5,
  rssBytes: 50 * 1024 * 1024,
  cpuLimit: null,
  memoryLimitBytes: 800 * 1024 * 1024,
  restarts: 3,
  cooldownRemainingSec: 0,
  cooldownUntilMs: 0,
  restartsInWindow: 2,
  managed: true,
  startedAtMs: 1_700_000_000_000,
  protectedMatch: "",
};

function types(record: Record<string, Variant>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, value.signature]));
}

describe("records", () => {
  it("ListProcesses records carry the contract's keys and types; no limit is 0", () => {
    const record = processRecord(view);
    expect(types(record)).toMatchObject(PROCESS_RECORD_TYPES);
    expect(record.cpu_limit!.value).toBe(0);
    expect(record.memory_limit_bytes!.value).toBe(838_860_800n);
    expect(record.started_usec!.value).toBe(1_700_000_000_000_000n);
  });

  it("ListProcesses records name an app policy's app (id, name, icon), and are empty strings for a plain command", () => {
    expect(types(processRecord(view))).toMatchObject({ app_id: "s", app_name: "s", app_icon: "s" });
    expect(processRecord(view).app_name!.value).toBe("");
    const record = processRecord(view, { id: "org.gnome.TextEditor.desktop", name: "Text Editor", icon: "org.gnome.TextEditor" });
    expect([record.app_id!.value, record.app_name!.value, record.app_icon!.value]).toEqual(["org.gnome.TextEditor.desktop", "Text Editor", "org.gnome.TextEditor"]);
  });

  it("GetCooldowns records: remaining and until are 0 outside a cooldown", () => {
    const now = 1_700_000_100_000;
    expect(types(cooldownRecord(view, now))).toMatchObject({ name: "s", restarts_in_window: "u", cooldown_remaining: "d", until_usec: "t" });
    const held = cooldownRecord({ ...view, cooldownUntilMs: now + 90_000 }, now);
    expect(held.cooldown_remaining!.value).toBe(90);
    expect(held.until_usec!.value).toBe(BigInt(now + 90_000) * 1000n);
    expect(cooldownRecord(view, now).until_usec!.value).toBe(0n);
  });

  const anomaly: Extract<EngineEvent, { kind: "anomaly" }> = {
    kind: "anomaly",
    timeMs: 1_700_000_000_500,
    message: "gedit leaks",
    name: "gedit",
    pid: 4242,
    type: "memory_leak",
    detail: "RSS grew 5.1 MB/s for 8 s (r² 0.99)",
    action: "restarted",
    figures: { slope_bytes_per_sec: 5_100_000, r2: 0.99 },
  };

  it("anomalies: ListAnomalies keeps figures apart, AnomalyDetected's details carry them as d", () => {
    expect(types(anomalyRecord(anomaly))).toEqual({ time_usec: "t", process: "s", pid: "u", type: "s", detail: "s", action: "s", figures: "a{sd}" });
    const details = anomalyDetails(anomaly);
    expect(types(details)).toEqual({ slope_bytes_per_sec: "d", r2: "d", detail: "s", action: "s", time_usec: "t" });
    expect(details.detail!.value).toBe(anomaly.detail);
  });

  it("zombies", () => {
    const record = zombieRecord({ pid: 10, ppid: 9, name: "z", parentName: "p", uid: 1000, ageSec: 3.5 });
    expect(types(record)).toMatchObject({ pid: "u", ppid: "u", name: "s", parent_name: "s", age: "d" });
  });

  it("events: common keys first, the event's own fields in snake_case with fixed types", () => {
    const crashed: EngineEvent = {
      kind: "crashed",
      timeMs: 1_700_000_000_000,
      message: "gedit crashed",
      name: "gedit",
      pid: 4242,
      exitCode: null,
      signal: "SIGSEGV",
      statusKnown: true,
      willRestart: true,
    };
    const record = eventRecord(crashed);
    expect(types(record)).toEqual({ time_usec: "t", kind: "s", process: "s", pid: "u", message: "s", signal: "s", status_known: "b", will_restart: "b" });
    const restarted = eventRecord({ kind: "restarted", timeMs: 1, message: "m", name: "gedit", oldPid: 1, newPid: 2, reason: "crash" });
    expect(restarted.pid!.value).toBe(2);
    expect(types(restarted)).toMatchObject({ old_pid: "u", new_pid: "u", reason: "s" });
    const cooldown = eventRecord({ kind: "cooldown-started", timeMs: 1, message: "m", name: "x", restarts: 5, seconds: 120, untilMs: 2000 });
    expect(types(cooldown)).toMatchObject({ restarts: "u", seconds: "d", until_usec: "t" });
  });

  it("events read back from a hand-edited log never break the record", () => {
    const odd = { kind: "crashed", timeMs: 5, message: 7, name: ["x"], pid: "12", exitCode: "x", extra: { deep: [1, "a"] } } as unknown as EngineEvent;
    const record = eventRecord(odd);
    expect(record.process!.value).toBe("");
    expect(record.pid!.value).toBe(0);
    expect(record.message!.value).toBe("");
    expect(record.exit_code).toBeUndefined();
    expect(record.extra!.signature).toBe("a{sv}");
  });
});

describe("caller input", () => {
  it("unpacks nested variants and 64-bit integers", () => {
    const input = { command: new Variant("as", ["a", "b"]), cooldown: new Variant("a{sv}", { pause: new Variant("t", 30n) }) };
    expect(policyInput(input)).toEqual({ set: { command: ["a", "b"], cooldown: { pause: 30 } }, unset: [] });
  });

  it("takes unset apart, and ignores the keys GetPolicies adds (a record can be sent back as it came)", () => {
    const input = {
      memory_limit_mb: new Variant("d", 120),
      unset: new Variant("as", ["cpu_limit", "cooldown.pause"]),
      overridden: new Variant("as", ["memory_limit_mb"]),
      shadowed: new Variant("a{sv}", { memory_limit_mb: new Variant("d", 90) }),
      origin: new Variant("s", "config.toml+D-Bus"),
    };
    expect(policyInput(input)).toEqual({ set: { memory_limit_mb: 120 }, unset: ["cpu_limit", "cooldown.pause"] });
    expect(() => policyInput({ unset: new Variant("s", "cpu_limit") })).toThrow(/"unset" lists the keys to leave out, as an array of strings \(as\)/);
  });

  it("refuses deep nesting, huge strings and byte arrays with InvalidArgs", () => {
    let deep: unknown = "x";
    for (let i = 0; i < 20; i++) deep = new Variant("v", deep);
    expect(() => plainFromVariants({ a: deep })).toThrow(InvalidArgsError);
    expect(() => plainFromVariants({ cwd: new Variant("s", "x".repeat(MAX_INPUT_STRING + 1)) })).toThrow(/characters long/);
    expect(() => plainFromVariants({ cwd: new Variant("ay", Buffer.from("abc")) })).toThrow(/byte array/);
    expect(() => policyInput(new Variant("s", "x"))).toThrow(/a\{sv\}/);
  });
});
