import { describe, expect, it } from "vitest";
import { untranslated as t } from "../untranslated.js";
import { processRow, processRows, stateText } from "../../../extension/src/model/processes.js";
import type { ProcessRecord } from "../../../extension/src/model/records.js";

const MB = 1024 * 1024;

function record(overrides: Partial<ProcessRecord>): ProcessRecord {
  return {
    name: "gedit",
    pid: 4312,
    state: "running",
    cpuPercent: 3.44,
    rssBytes: 120 * MB,
    cpuLimit: 0,
    memoryLimitBytes: 0,
    restarts: 0,
    cooldownRemaining: 0,
    managed: true,
    ...overrides,
  };
}

describe("processRow", () => {
  it("formats a running process and offers stop and restart", () => {
    const row = processRow(record({ restarts: 2 }), t);
    expect(row).toMatchObject({
      key: "gedit",
      stateText: "Running",
      tone: "ok",
      pidText: "4312",
      cpuText: "3.4%",
      memoryText: "120 MB",
      restartsText: "2",
      cooldownText: "",
      canStart: false,
      canStop: true,
      canRestart: true,
      canResetCooldown: false,
    });
  });

  it("shows limits beside the figures and flags a breach", () => {
    const row = processRow(record({ cpuPercent: 95, cpuLimit: 80, rssBytes: 250 * MB, memoryLimitBytes: 200 * MB }), t);
    expect(row.cpuText).toBe("95% / 80%");
    expect(row.memoryText).toBe("250 MB / 200 MB");
    expect(row.overCpuLimit).toBe(true);
    expect(row.overMemoryLimit).toBe(true);
  });

  it("offers start and a cooldown reset for a process held back", () => {
    const row = processRow(record({ pid: 0, state: "cooldown", cooldownRemaining: 65, restarts: 5 }), t);
    expect(row).toMatchObject({
      stateText: "Cooling down",
      tone: "error",
      pidText: "—",
      cpuText: "—",
      memoryText: "—",
      cooldownText: "1 min 5 s",
      canStart: true,
      canStop: false,
      canRestart: false,
      canResetCooldown: true,
    });
  });

  it("lets a pending restart be stopped", () => {
    const row = processRow(record({ pid: 0, state: "backoff" }), t);
    expect(row.canStop).toBe(true);
    expect(row.canStart).toBe(true);
    expect(row.tone).toBe("warning");
  });
});

describe("processRows", () => {
  it("sorts by name so rows keep their place", () => {
    const rows = processRows([record({ name: "zed" }), record({ name: "alpha" }), record({ name: "mid" })], t);
    expect(rows.map((row) => row.name)).toEqual(["alpha", "mid", "zed"]);
  });
});

describe("stateText", () => {
  it("names every state of the contract and passes unknown ones through", () => {
    expect(["running", "stopped", "crashed", "backoff", "cooldown", "exited"].map((state) => stateText(state, t))).toEqual([
      "Running",
      "Stopped",
      "Crashed",
      "Restarting",
      "Cooling down",
      "Exited",
    ]);
    expect(stateText("paused", t)).toBe("paused");
    expect(stateText("", t)).toBe("Unknown");
  });
});
