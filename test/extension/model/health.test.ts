import { describe, expect, it } from "vitest";
import { CrashTracker, indicatorState } from "../../../extension/src/model/health.js";
import { untranslated as t } from "../untranslated.js";
import { EMPTY_STATUS } from "../../../extension/src/model/records.js";

const ok = { ...EMPTY_STATUS, health: "ok", watchedCount: 3 };

describe("indicatorState", () => {
  it("is all well with nothing to count", () => {
    expect(indicatorState({ connected: true, status: ok, crashes: [], showCount: true, cpuPercent: null }, t)).toEqual({
      level: "ok",
      iconName: "selfheal-ok-symbolic",
      countText: "",
      cpuText: "",
      summary: "selfheal: all programs well",
    });
  });

  it("shows the daemon down as offline, whatever it said before", () => {
    const state = indicatorState({ connected: false, status: { ...ok, health: "critical" }, crashes: [], showCount: true, cpuPercent: 5 }, t);
    expect(state).toMatchObject({ level: "offline", iconName: "selfheal-offline-symbolic", summary: "selfheal is not running" });
  });

  it("goes degraded for a cooldown and counts it", () => {
    const state = indicatorState({ connected: true, status: { ...ok, cooldownCount: 1 }, crashes: [], showCount: true, cpuPercent: null }, t);
    expect(state).toMatchObject({ level: "degraded", countText: "1", summary: "selfheal: 1 program held back" });
  });

  it("says something needs a look when the daemon reports degraded health for other reasons", () => {
    const state = indicatorState({ connected: true, status: { ...ok, health: "degraded" }, crashes: [], showCount: true, cpuPercent: null }, t);
    expect(state).toMatchObject({ level: "degraded", countText: "", summary: "selfheal: some programs need a look" });
  });

  it("follows the daemon's critical health", () => {
    const state = indicatorState({ connected: true, status: { ...ok, health: "critical", cooldownCount: 2 }, crashes: [], showCount: false, cpuPercent: null }, t);
    expect(state).toMatchObject({ level: "critical", countText: "" });
  });

  it("reflects a crash at once: degraded when it will be restarted, critical when not", () => {
    const restarting = { name: "a", pid: 1, willRestart: true, atMs: 0 };
    const down = { name: "b", pid: 2, willRestart: false, atMs: 0 };
    expect(indicatorState({ connected: true, status: ok, crashes: [restarting], showCount: true, cpuPercent: null }, t)).toMatchObject({
      level: "degraded",
      countText: "1",
      summary: "selfheal: 1 recent crash",
    });
    expect(indicatorState({ connected: true, status: ok, crashes: [restarting, down], showCount: true, cpuPercent: null }, t)).toMatchObject({
      level: "critical",
      countText: "2",
    });
  });

  it("puts a rejected config.toml first in the summary (the menu's header)", () => {
    const configError = "/home/u/.config/selfheal/config.toml:6: process.web.memory_limit_mb: expected a number greater than 0, got -5 (number)\nthe last good version of config.toml stays in force";
    const state = indicatorState({ connected: true, status: { ...ok, health: "degraded", cooldownCount: 1, configError }, crashes: [], showCount: true, cpuPercent: null }, t);
    expect(state).toMatchObject({
      level: "degraded",
      summary:
        "selfheal: config.toml rejected (/home/u/.config/selfheal/config.toml:6: process.web.memory_limit_mb: expected a number greater than 0, got -5 (number)), 1 program held back",
    });
  });

  it("shows the CPU figure when asked", () => {
    expect(indicatorState({ connected: true, status: ok, crashes: [], showCount: true, cpuPercent: 12.4 }, t).cpuText).toBe("12%");
  });
});

describe("CrashTracker", () => {
  it("holds a crash for its hold time, then drops it", () => {
    const tracker = new CrashTracker(60_000);
    tracker.note({ name: "a", pid: 1, willRestart: true, atMs: 1000 });
    expect(tracker.active(30_000)).toHaveLength(1);
    expect(tracker.nextExpiryMs(30_000)).toBe(31_000);
    expect(tracker.active(61_000)).toHaveLength(0);
    expect(tracker.nextExpiryMs(61_000)).toBeNull();
  });

  it("keeps one crash per process, the latest", () => {
    const tracker = new CrashTracker(60_000);
    tracker.note({ name: "a", pid: 1, willRestart: true, atMs: 0 });
    tracker.note({ name: "a", pid: 2, willRestart: false, atMs: 10 });
    expect(tracker.active(20)).toEqual([{ name: "a", pid: 2, willRestart: false, atMs: 10 }]);
  });

  it("lowers a crash that left the process down once it runs again, and forgets one now in cooldown", () => {
    const tracker = new CrashTracker(60_000);
    tracker.note({ name: "a", pid: 1, willRestart: false, atMs: 0 });
    tracker.note({ name: "b", pid: 2, willRestart: true, atMs: 0 });
    tracker.restarted("a");
    tracker.forget("b");
    expect(tracker.active(1)).toEqual([{ name: "a", pid: 1, willRestart: true, atMs: 0 }]);
  });
});
