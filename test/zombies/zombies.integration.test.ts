// Zombies on real processes: the built daemon in a PID namespace of its own,
// real zombie makers (one of them run as user nobody). Zombies are found on
// the scan after they appear; without cleanup enabled they are only reported;
// the scheduled cleanup asks parents with SIGCHLD, ends those allowed, and
// never touches the other user's parent or a protected one.
import { afterEach, describe, expect, it } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, sandboxProblem, sleep, startSandbox, waitUntil, type Sandbox, type SandboxProcess } from "../fixtures/sandbox.js";

const problem = sandboxProblem();
/** Running a zombie maker as nobody needs root. */
const isRoot = process.getuid?.() === 0;
const MAKER = `${FIXTURES}/zombie-maker.pl`;
const NOBODY_MAKER = `${FIXTURES}/zombie-maker-nobody.sh`;
const NOBODY_UID = 65534;
let sandbox: Sandbox | null = null;

afterEach(async () => {
  await sandbox?.close();
  sandbox = null;
});

// The zombies in the sandbox now, and the parents that hold them.
function zombies(box: Sandbox): { zombies: SandboxProcess[]; parents: SandboxProcess[] } {
  const all = box.processes();
  const found = all.filter((p) => p.state === "Z");
  return { zombies: found, parents: all.filter((p) => found.some((z) => z.ppid === p.pid)) };
}

describe.skipIf(problem !== null)("zombies on real processes", () => {
  it("finds new zombies on the next scan (min_age = 0), with their parent, and leaves them when cleanup is off (the default)", async () => {
    sandbox = await startSandbox("[settings]\ninterval = 0.5\n\n[zombies]\nmin_age = 0\n", "zombies-detect");
    sandbox.run(`exec perl ${MAKER} 3 60 maker-a`);
    await waitUntil(() => zombies(sandbox!).zombies.length === 3, 10_000, () => `expected 3 zombies, saw ${zombies(sandbox!).zombies.length}`);
    const { zombies: found, parents } = zombies(sandbox);
    expect(parents.map((p) => p.comm)).toEqual(["maker-a"]);
    // On a loaded machine the children may end a scan apart: each is announced on the scan that sees it first.
    const announced = () => sandbox!.events().flatMap((e) => (e.kind === "zombies-detected" ? e.newPids : []));
    await waitUntil(() => announced().length >= 3, 10_000, () => `announced ${announced().length} of 3 zombies`);
    expect([...announced()].sort()).toEqual(found.map((z) => z.nsPid).sort());
    const detected = sandbox.events().filter((e) => e.kind === "zombies-detected");
    expect(detected.at(-1)!.count).toBe(3);
    for (const event of detected) expect(event.message).toMatch(/parent maker-a \d+/);
    // Announced once, not on every scan; nothing is cleaned or ended.
    await sleep(3000);
    expect(announced()).toHaveLength(3);
    expect(sandbox.events().some((e) => e.kind === "zombies-cleaned")).toBe(false);
    expect(zombies(sandbox).zombies).toHaveLength(3);
  });

  it.skipIf(!isRoot)("cleans up on a schedule when enabled: reaps by SIGCHLD where that works, ends the parents allowed, spares nobody's and the protected", async () => {
    const config = (cleanup: boolean) =>
      `[settings]\ninterval = 0.5\n\n[zombies]\ncleanup = ${cleanup}\ncleanup_interval = 4\nmin_age = 1\nkill_parents = true\nprotected = ["keep-me"]\n`;
    sandbox = await startSandbox(config(false), "zombies-clean");
    sandbox.run(`exec perl ${MAKER} 3 60 leaky`);
    sandbox.run(`exec perl ${MAKER} 2 60 asked --reap-on-sigchld`);
    sandbox.run(`exec perl ${MAKER} 2 60 keep-me`);
    sandbox.run(`exec ${NOBODY_MAKER} 2 60`);
    await waitUntil(() => zombies(sandbox!).zombies.length === 9, 10_000, () => `expected 9 zombies, saw ${zombies(sandbox!).zombies.length}`);
    const before = zombies(sandbox);
    const parentOf = (comm: string, uid = 0) => before.parents.find((p) => p.comm === comm && p.uid === uid)!;
    const nobodys = before.parents.find((p) => p.uid === NOBODY_UID)!;
    expect(nobodys).toBeDefined();

    // Cleanup on from now: its first round (cleanup_interval later) finds all nine zombies past
    // min_age, however slowly a loaded machine started their makers.
    writeFileSync(join(sandbox.dir, "config.toml"), config(true));
    await sandbox.waitForEvent("config-reloaded");
    const cleaned = await sandbox.waitForEvent("zombies-cleaned", () => true, 15_000);
    expect(cleaned).toMatchObject({ reaped: 5, remaining: 4 });
    expect(cleaned.message).toMatch(/ended leaky \(PID \d+\)/);
    expect(cleaned.message).toMatch(/keep-me \(PID \d+: keep-me is in \[zombies\] protected\)/);
    expect(cleaned.message).toMatch(/belongs to another user \(uid 65534\)/);

    const after = sandbox.processes();
    const alive = (process: SandboxProcess) => after.some((p) => p.pid === process.pid && p.startTicks === process.startTicks && p.state !== "Z");
    // Ended: the parent that never reaps. Asked and reaped, still running: the one that reaps on SIGCHLD.
    expect(alive(parentOf("leaky"))).toBe(false);
    expect(alive(parentOf("asked"))).toBe(true);
    // Untouched: the protected parent and the other user's, with their zombies.
    expect(alive(parentOf("keep-me"))).toBe(true);
    expect(alive(nobodys)).toBe(true);
    const left = after.filter((p) => p.state === "Z");
    expect(left.map((z) => after.find((p) => p.pid === z.ppid)?.comm).sort()).toEqual(["keep-me", "keep-me", "perl", "perl"]);
    expect(left.filter((z) => z.uid === NOBODY_UID)).toHaveLength(2);
  });
});
