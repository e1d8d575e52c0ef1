// Overrides set over D-Bus: only the keys that were set, on top of config.toml
// key by key; persisted atomically in the current format; an earlier file of
// whole policies migrated without changing a policy in force; a corrupt file
// reported by name, ignored and kept.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { parseConfigTables, policyToRaw } from "../../daemon/config/load.js";
import { applyOverride, overriddenKeys, shadowedValues, validateUnset, withoutNoOps } from "../../daemon/config/layers.js";
import {
  emptyOverrides,
  loadOverrides,
  mergeConfig,
  migrateWholePolicies,
  saveOverrides,
  withOverride,
  withPolicyRemoved,
} from "../../daemon/config/overrides.js";
import { PolicyStore } from "../../daemon/config/policyStore.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-overrides-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
// A fresh state directory for one test.
function freshDir(): string {
  dirCount += 1;
  return join(root, `state-${dirCount}`);
}

const FILE_TEXT = `[process.gedit]
cpu_limit = 80
memory_limit_mb = 90
cooldown = { max_restarts = 3 }
env = { LANG = "C" }

[process.xterm]

[process.keep]
command = ["keep", "--quiet"]
`;
const FILE = parseConfigTables(FILE_TEXT, "config.toml");

describe("an override on top of config.toml", () => {
  it("sets only its keys, a sub-table's one by one, and takes away its unset keys", () => {
    const merged = applyOverride(FILE.tables.gedit, { set: { memory_limit_mb: 120, cooldown: { pause: 30 } }, unset: ["cpu_limit", "env.LANG"] });
    expect(merged).toEqual({ memory_limit_mb: 120, cooldown: { max_restarts: 3, pause: 30 } });
    expect(FILE.tables.gedit).toMatchObject({ cpu_limit: 80, cooldown: { max_restarts: 3 } });
  });

  it("names its keys, and config.toml's values they shadow", () => {
    const override = { set: { memory_limit_mb: 120, cooldown: { pause: 30, max_restarts: 4 }, restart: "always" }, unset: ["cpu_limit"] };
    expect(overriddenKeys(override)).toEqual(["cooldown.max_restarts", "cooldown.pause", "cpu_limit", "memory_limit_mb", "restart"]);
    expect(shadowedValues(FILE.tables.gedit, override)).toEqual([
      { key: "cooldown.max_restarts", fileValue: 3, value: 4 },
      { key: "cpu_limit", fileValue: 80, value: undefined },
      { key: "memory_limit_mb", fileValue: 90, value: 120 },
    ]);
  });

  it("keeps no key that changes nothing: config.toml's value, a default, a match the command derives", () => {
    expect(withoutNoOps("gedit", FILE.tables.gedit, { set: { memory_limit_mb: 90, cpu_limit: 70, scope: "tree" }, unset: ["match"] })).toEqual({ set: { cpu_limit: 70 }, unset: [] });
    expect(withoutNoOps("new", undefined, { set: { command: ["/usr/bin/app", "-x"], match: "app", sustain: 2 }, unset: [] })).toEqual({ set: { command: ["/usr/bin/app", "-x"] }, unset: [] });
    expect(withoutNoOps("gedit", FILE.tables.gedit, { set: { env: {} }, unset: [] })).toEqual({ set: {}, unset: [] });
  });

  it("refuses an unset key that a policy does not have, naming it", () => {
    expect(() => validateUnset("gedit", ["cpu_limt"], "SetPolicy")).toThrow(/^SetPolicy: process\.gedit\.unset: "cpu_limt" is not a key of a policy; the keys are app, command, match, cpu_limit/);
    expect(() => validateUnset("gedit", ["cooldown.later"], "SetPolicy")).toThrow(/"later" is not a key of cooldown; its keys are max_restarts, window, pause/);
    expect(() => validateUnset("gedit", ["restart.x"], "SetPolicy")).toThrow(/"restart" has no keys of its own to leave out/);
    expect(() => validateUnset("gedit", ["env.ANY", "leak.min_r2", "cooldown.pause", "cpu_limit"], "SetPolicy")).not.toThrow();
  });
});

describe("mergeConfig", () => {
  it("puts overrides on config.toml's policies, adds new ones and drops removed names", () => {
    let overrides = withOverride(emptyOverrides(), "gedit", { set: { cpu_limit: 20 }, unset: [] });
    overrides = withOverride(overrides, "newapp", { set: { command: ["newapp", "-x"] }, unset: [] });
    overrides = withPolicyRemoved(overrides, "xterm", true);
    const merged = mergeConfig(FILE, overrides);
    expect([...merged.policies.keys()]).toEqual(["gedit", "keep", "newapp"]);
    expect(merged.policies.get("gedit")).toMatchObject({ cpuLimit: 20, memoryLimitBytes: 90 * 1024 * 1024, cooldown: { maxRestarts: 3 } });
    expect(merged.policies.get("newapp")?.command).toEqual(["newapp", "-x"]);
    expect(merged.settings).toEqual(FILE.config.settings);
  });

  it("removing a policy set only over D-Bus forgets it; setting a removed one brings it back", () => {
    let overrides = withOverride(emptyOverrides(), "newapp", { set: {}, unset: [] });
    overrides = withPolicyRemoved(overrides, "newapp", false);
    expect(overrides).toEqual({ policies: {}, removed: [] });
    overrides = withPolicyRemoved(overrides, "xterm", true);
    overrides = withOverride(overrides, "xterm", { set: { sustain: 4 }, unset: [] });
    expect(overrides.removed).toEqual([]);
    expect(mergeConfig(FILE, overrides).policies.get("xterm")?.sustain).toBe(4);
  });
});

describe("saveOverrides and loadOverrides", () => {
  it("persists and reads back what was set, left out and removed", async () => {
    const path = join(freshDir(), "overrides.json");
    expect(loadOverrides(path)).toEqual({ overrides: emptyOverrides(), error: null, wholePolicies: null });
    const overrides = withPolicyRemoved(withOverride(emptyOverrides(), "gedit", { set: { memory_limit_mb: 150 }, unset: ["cpu_limit"] }), "xterm", true);
    await saveOverrides(path, overrides);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 2, policies: { gedit: { set: { memory_limit_mb: 150 }, unset: ["cpu_limit"] } }, removed: ["xterm"] });
    const loaded = loadOverrides(path);
    expect(loaded).toEqual({ overrides, error: null, wholePolicies: null });
    const merged = mergeConfig(FILE, loaded.overrides);
    expect(merged.policies.get("gedit")).toMatchObject({ memoryLimitBytes: 150 * 1024 * 1024, cpuLimit: null });
    expect(merged.policies.has("xterm")).toBe(false);
  });

  it("reports a corrupt file by name, ignores it and leaves it in place", async () => {
    const dir = freshDir();
    const path = join(dir, "overrides.json");
    await saveOverrides(path, emptyOverrides());
    writeFileSync(path, '{ "version": 2, "policies": { "gedit": ');
    const loaded = loadOverrides(path);
    expect(loaded.overrides).toEqual(emptyOverrides());
    expect(loaded.error?.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: corrupt overrides file, ignored: `));
    expect(readFileSync(path, "utf8")).toBe('{ "version": 2, "policies": { "gedit": ');

    // The next save keeps a copy of what it replaces.
    await saveOverrides(path, emptyOverrides());
    const kept = readdirSync(dir).filter((name) => name.startsWith("overrides.json.corrupt-"));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0] ?? ""), "utf8")).toBe('{ "version": 2, "policies": { "gedit": ');
    expect(loadOverrides(path).error).toBeNull();
  });

  it("rejects a file of the wrong shape as corrupt", () => {
    const path = join(freshDir(), "overrides.json");
    saveShape(path, { version: 2, policies: [], removed: "x" });
    const loaded = loadOverrides(path);
    expect(loaded.overrides).toEqual(emptyOverrides());
    expect(loaded.error?.problems[0]?.file).toBe(path);
    expect(loaded.error?.message).toMatch(/corrupt overrides file, ignored: policies: .*; removed: /);
    saveShape(path, { set: [], removed: "x" });
    expect(loadOverrides(path).error?.message).toMatch(/corrupt overrides file, ignored: set: .*; removed: /);
  });

  it("says what was wrong with each part of a file of the wrong shape (zod's English messages, which its mini build leaves out unless set)", () => {
    const path = join(freshDir(), "overrides.json");
    saveShape(path, { version: 2, policies: { web: { set: 5 } }, removed: [1], extra: true });
    expect(loadOverrides(path).error?.problems[0]?.message).toBe(
      'corrupt overrides file, ignored: policies.web.set: Invalid input: expected record, received number; removed.0: Invalid input: expected string, received number; top level: Unrecognized key: "extra"',
    );
    saveShape(path, { version: 3 });
    expect(loadOverrides(path).error?.problems[0]?.message).toBe("corrupt overrides file, ignored: version: Invalid input: expected 2");
  });

  it("skips (and names) an override that does not validate, keeping the others", () => {
    const path = join(freshDir(), "overrides.json");
    saveShape(path, { version: 2, policies: { good: { set: { cpu_limit: 10 } }, bad: { set: { cpu_limit: -1 } }, odd: { set: {}, unset: ["nope"] } }, removed: [] });
    const loaded = loadOverrides(path);
    expect(Object.keys(loaded.overrides.policies)).toEqual(["good"]);
    expect(loaded.error?.message).toBe(
      `${path}: process.bad.cpu_limit: expected a number greater than 0, got -1 (number)\n${path}: process.odd.unset: "nope" is not a key of a policy; the keys are app, command, match, cpu_limit, memory_limit_mb, scope, sustain, memory_sustain, on_violation, restart, autostart, cooldown, stop_timeout, cwd, env, leak, fork_bomb, cpu_spike`,
    );
  });
});

describe("an earlier overrides file of whole policies", () => {
  // What the earlier SetPolicy wrote: the whole effective policy.
  const whole = (fields: Record<string, unknown>) => ({
    ...policyToRaw(mergeConfig(FILE, emptyOverrides()).policies.get("gedit")!),
    ...fields,
  });

  it("keeps only what differs from config.toml, and every policy in force stays the same", () => {
    const earlier = {
      // gedit with its memory limit changed and its CPU limit and env removed.
      gedit: (() => {
        const raw = whole({ memory_limit_mb: 150, env: {} });
        delete raw.cpu_limit;
        return raw;
      })(),
      // keep, word for word as config.toml gives it.
      keep: policyToRaw(mergeConfig(FILE, emptyOverrides()).policies.get("keep")!),
      // a policy added over D-Bus.
      added: { command: ["added", "-v"], match: "added", scope: "process", sustain: 2, on_violation: "restart", restart: "always", autostart: false, cooldown: { max_restarts: 5, window: 60, pause: 120 }, stop_timeout: 5, env: {} },
    };
    const before = new Map(Object.entries(earlier).map(([name, raw]) => [name, mergeConfig(parseConfigTables("", "none"), withOverride(emptyOverrides(), name, { set: raw, unset: [] })).policies.get(name)]));
    const migrated = migrateWholePolicies(earlier, ["xterm"], FILE);
    expect(migrated).toEqual({
      policies: {
        gedit: { set: { memory_limit_mb: 150 }, unset: ["cpu_limit", "env.LANG"] },
        added: { set: { command: ["added", "-v"], scope: "process", restart: "always" }, unset: [] },
      },
      removed: ["xterm"],
    });
    const after = mergeConfig(FILE, migrated).policies;
    for (const [name, policy] of before) expect(after.get(name), name).toEqual(policy);
  });

  it("is migrated by the store at start: the current format written, the earlier file kept as .v1", () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    const paths = { config: join(dir, "config.toml"), overrides: join(dir, "overrides.json"), lastGood: join(dir, "last-good.toml") };
    writeFileSync(paths.config, FILE_TEXT);
    const earlier = JSON.stringify({ set: { gedit: whole({ memory_limit_mb: 150 }) }, removed: [] });
    writeFileSync(paths.overrides, earlier);
    const store = new PolicyStore(paths);
    expect(store.config.policies.get("gedit")).toMatchObject({ memoryLimitBytes: 150 * 1024 * 1024, cpuLimit: 80 });
    expect(JSON.parse(readFileSync(paths.overrides, "utf8"))).toEqual({ version: 2, policies: { gedit: { set: { memory_limit_mb: 150 } } }, removed: [] });
    expect(readFileSync(`${paths.overrides}.v1`, "utf8")).toBe(earlier);
    expect(store.layersOf("gedit")).toEqual({ origin: "config.toml+D-Bus", overridden: ["memory_limit_mb"], unset: [], shadowed: [{ key: "memory_limit_mb", fileValue: 90, value: 150 }] });
    expect(store.notices()).toEqual(["process.gedit.memory_limit_mb: 90 in config.toml is overridden by 150 set over D-Bus"]);
  });
});

// Write raw JSON as an overrides file, bypassing saveOverrides.
function saveShape(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}
