// Health from the units' states and what the events said.
import { describe, expect, it } from "vitest";
import type { UnitView } from "../../daemon/engine/engine.js";
import { assessHealth, HealthEvents } from "../../daemon/bus/health.js";
import { unitView } from "../helpers/fakes.js";

// A running, managed program's view, changed by `fields`.
function unit(name: string, fields: Partial<UnitView> = {}): UnitView {
  return unitView(name, { pid: 100, startTicks: 1000, state: "running", managed: true, ...fields });
}

const none = { failedStarts: new Set<string>(), lastEnds: new Map(), recentAnomalies: 0 };

describe("assessHealth", () => {
  it("is ok when everything runs", () => {
    expect(assessHealth({ ...none, units: [unit("a"), unit("b", { state: "stopped", pid: 0 })] })).toBe("ok");
  });

  it("is degraded during a backoff or after a recent anomaly", () => {
    expect(assessHealth({ ...none, units: [unit("a", { state: "backoff", pid: 0 })] })).toBe("degraded");
    expect(assessHealth({ ...none, units: [unit("a")], recentAnomalies: 1 })).toBe("degraded");
  });

  it("is at least degraded while config.toml is rejected", () => {
    expect(assessHealth({ ...none, units: [unit("a")], configRejected: true })).toBe("degraded");
    expect(assessHealth({ ...none, units: [unit("a", { state: "cooldown", pid: 0 })], configRejected: true })).toBe("critical");
  });

  it("is critical for a crash loop held in cooldown, degraded for a cooldown after limit restarts", () => {
    const events = new HealthEvents();
    events.observe({ kind: "crashed", timeMs: 0, message: "", name: "a", pid: 1, exitCode: 1, signal: null, statusKnown: true, willRestart: false });
    events.observe({ kind: "stopped", timeMs: 0, message: "", name: "b", pid: 2, forced: false });
    const inputs = { ...none, failedStarts: events.failedStarts, lastEnds: events.lastEnds };
    expect(assessHealth({ ...inputs, units: [unit("a", { state: "cooldown", pid: 0 })] })).toBe("critical");
    expect(assessHealth({ ...inputs, units: [unit("b", { state: "cooldown", pid: 0 })] })).toBe("degraded");
    // A cooldown resumed from an earlier run, with no end seen: taken as a crash loop.
    expect(assessHealth({ ...inputs, units: [unit("c", { state: "cooldown", pid: 0 })] })).toBe("critical");
  });

  it("is critical while a start failure stands, until the program runs or is stopped by the user", () => {
    const events = new HealthEvents();
    events.observe({ kind: "start-failed", timeMs: 0, message: "", name: "a", error: "ENOENT" });
    const inputs = { ...none, failedStarts: events.failedStarts, lastEnds: events.lastEnds };
    expect(assessHealth({ ...inputs, units: [unit("a", { state: "crashed", pid: 0 })] })).toBe("critical");
    expect(assessHealth({ ...inputs, units: [unit("a", { state: "stopped", pid: 0 })] })).toBe("ok");
    events.observe({ kind: "started", timeMs: 0, message: "", name: "a", pid: 5, reason: "request" });
    expect(assessHealth({ ...inputs, units: [unit("a", { state: "crashed", pid: 0 })] })).toBe("ok");
  });
});
