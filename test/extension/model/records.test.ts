import { describe, expect, it } from "vitest";
import { parseAnomaly, parseCooldown, parseProcess, parseStatus, parseZombie } from "../../../extension/src/model/records.js";

describe("parseProcess", () => {
  it("reads the contract's keys, 64-bit values included", () => {
    expect(
      parseProcess({
        name: "gedit",
        pid: 4312,
        state: "running",
        cpu_percent: 3.5,
        rss_bytes: 125_829_120n,
        cpu_limit: 80,
        memory_limit_bytes: 209_715_200,
        restarts: 2,
        cooldown_remaining: 0,
        managed: true,
        app_id: "org.gnome.gedit.desktop",
        app_name: "Text Editor",
        app_icon: "org.gnome.gedit",
        extra_key: "ignored",
      }),
    ).toEqual({
      name: "gedit",
      pid: 4312,
      state: "running",
      cpuPercent: 3.5,
      rssBytes: 125_829_120,
      cpuLimit: 80,
      memoryLimitBytes: 209_715_200,
      restarts: 2,
      cooldownRemaining: 0,
      managed: true,
      appId: "org.gnome.gedit.desktop",
      appName: "Text Editor",
      appIcon: "org.gnome.gedit",
    });
  });

  it("falls back to empty values for missing or ill-typed keys", () => {
    expect(parseProcess({ name: 7, pid: "12", cpu_percent: Number.NaN })).toEqual({
      name: "",
      pid: 0,
      state: "",
      cpuPercent: 0,
      rssBytes: 0,
      cpuLimit: 0,
      memoryLimitBytes: 0,
      restarts: 0,
      cooldownRemaining: 0,
      managed: false,
      appId: "",
      appName: "",
      appIcon: "",
    });
  });
});

describe("the other records", () => {
  it("read their keys", () => {
    expect(parseAnomaly({ time_usec: 5n, process: "a", pid: 1, type: "cpu_spike", detail: "d", action: "notify" })).toEqual({
      timeUsec: 5,
      process: "a",
      pid: 1,
      type: "cpu_spike",
      detail: "d",
      action: "notify",
      figures: {},
    });
    expect(parseAnomaly({ time_usec: 5n, process: "a", pid: 1, type: "memory_leak", detail: "d", action: "notify", figures: { spanSec: 30, r2: 0.9, bad: "x" } }).figures).toEqual({ spanSec: 30, r2: 0.9 });
    expect(parseZombie({ pid: 10, ppid: 9, name: "z", parent_name: "p", age: 4.5, parent_sigchld: "default", parent_protected: "" })).toEqual({
      pid: 10,
      ppid: 9,
      name: "z",
      parentName: "p",
      age: 4.5,
      parentSigchld: "default",
      parentProtected: "",
    });
    expect(parseCooldown({ name: "c", restarts_in_window: 5, cooldown_remaining: 100, until_usec: 9n })).toEqual({
      name: "c",
      restartsInWindow: 5,
      cooldownRemaining: 100,
      untilUsec: 9,
    });
    expect(parseStatus({ Version: "0.1.0", Health: "ok", WatchedCount: 3, ZombieCount: 1, AnomalyCount: 0, CooldownCount: 2 })).toEqual({
      version: "0.1.0",
      health: "ok",
      watchedCount: 3,
      zombieCount: 1,
      anomalyCount: 0,
      cooldownCount: 2,
      configError: "",
    });
    expect(parseStatus({ Health: "degraded", ConfigError: "config.toml:3: bad" }).configError).toBe("config.toml:3: bad");
  });
});
