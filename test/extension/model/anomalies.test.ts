import { describe, expect, it } from "vitest";
import { anomalyRows } from "../../../extension/src/model/anomalies.js";
import { untranslated as t } from "../untranslated.js";

const SECOND = 1_000_000;
const now = 1_700_000_000 * SECOND;

describe("anomalyRows", () => {
  it("puts the most recent first and says what happened in words", () => {
    const rows = anomalyRows(
      [
        { timeUsec: now - 3600 * SECOND, process: "leaky", pid: 10, type: "memory_leak", detail: "+40 MB/min for 5 min", action: "restart", figures: {} },
        { timeUsec: now - 120 * SECOND, process: "forky", pid: 0, type: "fork_bomb", detail: "300 children", action: "kill_tree", figures: {} },
        { timeUsec: now - 30 * SECOND, process: "busy", pid: 12, type: "cpu_spike", detail: "95% vs 5%", action: "notify", figures: {} },
      ],
      now,
      t,
    );
    expect(rows.map((row) => [row.whenText, row.process, row.pidText, row.kindText, row.actionText])).toEqual([
      ["30 s ago", "busy", "12", "CPU spike", "Notified"],
      ["2 min ago", "forky", "—", "Fork bomb", "Killed the process tree"],
      ["1 h ago", "leaky", "10", "Memory leak", "Restarted"],
    ]);
    expect(new Set(rows.map((row) => row.key)).size).toBe(3);
  });

  it("carries a memory leak's fitted line for its curve, and none for other kinds", () => {
    const figures = { spanSec: 32, slopeMbPerSec: 5, fitEndMb: 300, r2: 0.98 };
    const [leak, spike] = anomalyRows(
      [
        { timeUsec: now, process: "leaky", pid: 10, type: "memory_leak", detail: "", action: "notify", figures },
        { timeUsec: now - SECOND, process: "busy", pid: 12, type: "cpu_spike", detail: "", action: "notify", figures: { cpuPercent: 95 } },
      ],
      now,
      t,
    );
    expect(leak?.fit).toEqual({ endUsec: now, spanSec: 32, slopeMbPerSec: 5, fitEndMb: 300 });
    expect(spike?.fit).toBeNull();
  });

  it("shows unknown kinds and actions as the daemon named them", () => {
    const [row] = anomalyRows([{ timeUsec: now, process: "p", pid: 1, type: "io_storm", detail: "", action: "throttled", figures: {} }], now, t);
    expect(row?.kindText).toBe("io_storm");
    expect(row?.actionText).toBe("throttled");
  });
});
