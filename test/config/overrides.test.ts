// Overrides set over D-Bus: persisted atomically, merged over config.toml, and a
// corrupt file reported by name, ignored and kept.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { parseConfig, validatePolicyObject } from "../../daemon/config/load.js";
import {
  emptyOverrides,
  loadOverrides,
  mergeConfig,
  saveOverrides,
  withPolicyRemoved,
  withPolicySet,
} from "../../daemon/config/overrides.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-overrides-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
// A fresh state directory for one test.
function freshDir(): string {
  dirCount += 1;
  return join(root, `state-${dirCount}`);
}

const FILE_CONFIG = parseConfig('[process.gedit]\ncpu_limit = 80\n[process.xterm]\n[process.keep]\n', "config.toml");

describe("mergeConfig", () => {
  it("lets set policies win, adds new ones and drops removed names", () => {
    let overrides = withPolicySet(emptyOverrides(), validatePolicyObject("gedit", { cpu_limit: 20 }, "test"));
    overrides = withPolicySet(overrides, validatePolicyObject("newapp", { command: ["newapp", "-x"] }, "test"));
    overrides = withPolicyRemoved(overrides, "xterm");
    const merged = mergeConfig(FILE_CONFIG, overrides);
    expect([...merged.policies.keys()]).toEqual(["gedit", "keep", "newapp"]);
    expect(merged.policies.get("gedit")?.cpuLimit).toBe(20);
    expect(merged.policies.get("newapp")?.command).toEqual(["newapp", "-x"]);
    expect(merged.settings).toEqual(FILE_CONFIG.settings);
    expect(FILE_CONFIG.policies.has("xterm")).toBe(true);
  });

  it("removing a set policy drops it; setting a removed one brings it back", () => {
    let overrides = withPolicySet(emptyOverrides(), validatePolicyObject("newapp", {}, "test"));
    overrides = withPolicyRemoved(overrides, "newapp");
    expect(overrides).toEqual({ set: {}, removed: ["newapp"] });
    overrides = withPolicySet(overrides, validatePolicyObject("newapp", { sustain: 4 }, "test"));
    expect(overrides.removed).toEqual([]);
    expect(mergeConfig(FILE_CONFIG, overrides).policies.get("newapp")?.sustain).toBe(4);
  });
});

describe("saveOverrides and loadOverrides", () => {
  it("persists and reads back what was set and removed", async () => {
    const path = join(freshDir(), "overrides.json");
    expect(loadOverrides(path)).toEqual({ overrides: emptyOverrides(), error: null });
    const overrides = withPolicyRemoved(withPolicySet(emptyOverrides(), validatePolicyObject("gedit", { memory_limit_mb: 150 }, "test")), "xterm");
    await saveOverrides(path, overrides);
    const loaded = loadOverrides(path);
    expect(loaded.error).toBeNull();
    expect(loaded.overrides).toEqual(overrides);
    const merged = mergeConfig(FILE_CONFIG, loaded.overrides);
    expect(merged.policies.get("gedit")?.memoryLimitBytes).toBe(150 * 1024 * 1024);
    expect(merged.policies.has("xterm")).toBe(false);
    expect(JSON.parse(readFileSync(path, "utf8"))).toHaveProperty("removed", ["xterm"]);
  });

  it("reports a corrupt file by name, ignores it and leaves it in place", async () => {
    const dir = freshDir();
    const path = join(dir, "overrides.json");
    await saveOverrides(path, emptyOverrides());
    writeFileSync(path, '{ "set": { "gedit": ');
    const loaded = loadOverrides(path);
    expect(loaded.overrides).toEqual(emptyOverrides());
    expect(loaded.error?.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: corrupt overrides file, ignored: `));
    expect(readFileSync(path, "utf8")).toBe('{ "set": { "gedit": ');

    // The next save keeps a copy of what it replaces.
    await saveOverrides(path, emptyOverrides());
    const kept = readdirSync(dir).filter((name) => name.startsWith("overrides.json.corrupt-"));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0] ?? ""), "utf8")).toBe('{ "set": { "gedit": ');
    expect(loadOverrides(path).error).toBeNull();
  });

  it("rejects a file of the wrong shape as corrupt", () => {
    const path = join(freshDir(), "overrides.json");
    saveShape(path, { set: [], removed: "x" });
    const loaded = loadOverrides(path);
    expect(loaded.overrides).toEqual(emptyOverrides());
    expect(loaded.error?.problems[0]?.file).toBe(path);
    expect(loaded.error?.message).toMatch(/corrupt overrides file, ignored: set: .*; removed: /);
  });

  it("skips (and names) a policy that no longer validates, keeping the others", () => {
    const path = join(freshDir(), "overrides.json");
    saveShape(path, { set: { good: { cpu_limit: 10 }, bad: { cpu_limit: -1 } }, removed: [] });
    const loaded = loadOverrides(path);
    expect(Object.keys(loaded.overrides.set)).toEqual(["good"]);
    expect(loaded.error?.message).toBe(`${path}: process.bad.cpu_limit: expected a number greater than 0, got -1 (number)`);
  });
});

// Write raw JSON as an overrides file, bypassing saveOverrides.
function saveShape(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}
