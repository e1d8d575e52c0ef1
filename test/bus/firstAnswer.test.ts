// The first answers of a daemon started by D-Bus activation (as `selfheal
// status` starts it on a desktop) already tell the first scan: a program
// started by hand is running and adopted, a cooldown kept from the daemon's
// last run holds, an autostart program runs, and Health says so. The bus and
// the daemon run in a PID namespace of their own (see busSandbox.ts).
import { writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { sandboxProblem, waitUntil } from "../fixtures/sandbox.js";
import { BUS_NAME, busctl, DEFAULT_WAIT_MS, MANAGER_INTERFACE, OBJECT_PATH, selfheal, testProgram } from "../helpers/bus.js";

const problem = sandboxProblem();
let box: BusSandbox | null = null;

afterEach(async () => {
  await box?.close();
  box = null;
});

interface StatusJson {
  health: string;
  cooldowns: number;
  processes: Array<{ name: string; pid: number; state: string; rss_bytes: number; cooldown_remaining: number; managed: boolean }>;
}

// A sandbox with three policies: one whose program the test starts by hand, one held by a kept cooldown, one autostarted.
async function scene(): Promise<{ box: BusSandbox; handPid: number }> {
  const sandbox = await startBusSandbox({ prefix: "first", config: "" });
  const hand = testProgram(sandbox.dir, "by-hand");
  const held = testProgram(sandbox.dir, "held-back");
  const auto = testProgram(sandbox.dir, "auto-start");
  sandbox.writeConfig(
    `[process.hand]\ncommand = ["${hand}", "600"]\n\n[process.held]\ncommand = ["${held}", "600"]\n\n[process.auto]\ncommand = ["${auto}", "600"]\nautostart = true\n`,
  );
  // The cooldown an earlier daemon run left: held for ten more minutes.
  const now = Date.now();
  mkdirSync(sandbox.stateDir, { recursive: true });
  writeFileSync(
    join(sandbox.stateDir, "cooldown.json"),
    JSON.stringify({ version: 1, cooldowns: { held: { restarts: [now - 3000, now - 2000, now - 1000], untilMs: now + 600_000 } } }),
  );
  sandbox.run(`exec ${hand} 600`);
  let handPid = 0;
  await waitUntil(() => (handPid = sandbox.processes().find((p) => p.comm === "by-hand")?.nsPid ?? 0) > 0, DEFAULT_WAIT_MS, () => "the program started by hand did not start");
  return { box: sandbox, handPid };
}

describe.skipIf(problem !== null)("the first answers after D-Bus activation", () => {
  it("selfheal status, activating the daemon, shows the first scan: adopted, cooldown, autostarted, health", async () => {
    const { box: sandbox, handPid } = await scene();
    box = sandbox;
    expect(sandbox.daemonPids()).toEqual([]);
    const result = await selfheal(sandbox.bus, ["status", "--json"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const status = JSON.parse(result.stdout) as StatusJson;
    const byName = Object.fromEntries(status.processes.map((record) => [record.name, record]));
    expect(byName.hand).toMatchObject({ state: "running", pid: handPid, managed: false });
    expect(byName.hand!.rss_bytes).toBeGreaterThan(0);
    expect(byName.held).toMatchObject({ state: "cooldown", pid: 0 });
    expect(byName.held!.cooldown_remaining).toBeGreaterThan(500);
    expect(byName.auto).toMatchObject({ state: "running", managed: true });
    expect(byName.auto!.pid).toBeGreaterThan(0);
    expect(status.cooldowns).toBe(1);
    // A cooldown resumed from an earlier run counts as a crash loop.
    expect(status.health).toBe("critical");
  });

  it("a Health property read that activates the daemon already says critical", async () => {
    const { box: sandbox } = await scene();
    box = sandbox;
    const result = await busctl(sandbox.bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "Health", "CooldownCount"]);
    expect(result).toMatchObject({ code: 0, stdout: 's "critical"\nu 1\n', stderr: "" });
  });
});
