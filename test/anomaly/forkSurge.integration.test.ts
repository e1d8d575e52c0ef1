// A fork bomb on real processes, caught between scans: the built daemon in a
// PID namespace of its own with a scan interval far longer than the test
// waits, so the bomb is found through the fork-surge sentinel, not a scan.
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, sandboxProblem, startSandbox, type Sandbox } from "../fixtures/sandbox.js";

const problem = sandboxProblem();
/** The first scan is taken at start, the next this many seconds later: longer than the test waits. */
const LONG_INTERVAL_SEC = 120;
const WAIT_MS = 30_000;

describe.skipIf(problem !== null)("a fork bomb between scans", () => {
  let sandbox: Sandbox | null = null;

  afterAll(async () => {
    await sandbox?.close();
  });

  it("is contained at its surge of forks, without waiting for the next scan: none left", async () => {
    sandbox = await startSandbox(
      `[settings]\ninterval = ${LONG_INTERVAL_SEC}\n\n[process.bomb]\ncommand = ["bash", "${FIXTURES}/fork-bomb.sh", "200", "50", "2"]\nmatch = "/fork-bomb\\\\.sh/"\nautostart = true\n\n[process.calm]\ncommand = ["sleep", "300"]\nmatch = "/^sleep 300$/"\nautostart = true\n`,
      "surge",
    );
    const started = await sandbox.waitForEvent("started", (e) => e.name === "bomb");
    const calm = await sandbox.waitForEvent("started", (e) => e.name === "calm");
    const bomb = await sandbox.waitForEvent("anomaly", (e) => e.type === "fork_bomb", WAIT_MS);
    expect(bomb).toMatchObject({ name: "bomb", pid: started.pid });
    expect(bomb.action).toMatch(/^contained \d+ processes$/);
    expect(bomb.figures.survivors).toBe(0);
    expect(bomb.figures.descendants).toBeGreaterThanOrEqual(50);
    // Its group was stopped on the surge's quick look, before the full look that confirmed the bomb began.
    expect(bomb.figures.firstStopMs).toBeLessThanOrEqual(bomb.figures.lookMs!);
    const left = sandbox.processes().filter((p) => p.comm === "sleep" && p.nsPid !== calm.pid && p.state !== "Z");
    expect(left).toEqual([]);
    expect(sandbox.processes().some((p) => p.nsPid === calm.pid)).toBe(true);
  });
});
