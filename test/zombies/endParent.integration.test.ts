// `selfheal zombies --clean` that reaps nothing says which parents keep their
// zombies, why, and what to do; `selfheal zombies --end-parent PID`
// (EndZombieParent) ends one such parent, and refuses PID 1, a [zombies]
// protected name and another user's process. The bus, the daemon and the
// zombie makers run in a PID namespace of their own: the daemon ends processes here.
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { FIXTURES, sandboxProblem } from "../fixtures/sandbox.js";
import { BUS_NAME, busctl, MANAGER_INTERFACE, OBJECT_PATH, REPO, run, selfheal, waitUntil } from "../helpers/bus.js";

const problem = sandboxProblem();
const isRoot = process.getuid?.() === 0;
const MAKER = `${FIXTURES}/zombie-maker.pl`;
const NOBODY_MAKER = `${FIXTURES}/zombie-maker-nobody.sh`;
let box: BusSandbox;

interface ZombieRow {
  pid: number;
  ppid: number;
  name: string;
  parent_name: string;
  parent_sigchld: string;
  parent_protected: string;
  uid: number;
}

// The daemon's zombie list (its PIDs are the namespace's).
async function listZombies(): Promise<ZombieRow[]> {
  const result = await selfheal(box.bus, ["zombies", "--json"]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ZombieRow[];
}

// The namespace PID of the parent named `name` (of uid 0 unless told).
async function parentPid(name: string): Promise<number> {
  const row = (await listZombies()).find((zombie) => zombie.parent_name === name);
  if (row === undefined) throw new Error(`no zombie of ${name}`);
  return row.ppid;
}

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "endparent", config: '[settings]\ninterval = 0.3\n\n[zombies]\nmin_age = 0\nreap_wait = 1\nprotected = ["keep-me"]\n' });
  await box.startDaemon();
  box.run(`exec perl ${MAKER} 2 110 leaky`);
  box.run(`exec perl ${MAKER} 1 110 keep-me`);
  box.run(`exec perl ${MAKER} 3 110 leaky-app`);
  if (isRoot) box.run(`exec ${NOBODY_MAKER} 1 110`);
  const expected = isRoot ? 7 : 6;
  await waitUntil(async () => (await listZombies()).length === expected, 20_000, () => `expected ${expected} zombies`);
});

afterAll(async () => {
  await box?.close();
});

describe.skipIf(problem !== null)("zombie parents that do not reap", () => {
  it("ListZombies tells what each parent does with SIGCHLD and whether the daemon would end it", async () => {
    const rows = await listZombies();
    const leaky = rows.find((row) => row.parent_name === "leaky")!;
    expect(leaky).toMatchObject({ parent_sigchld: "default", parent_protected: "" });
    expect(rows.find((row) => row.parent_name === "keep-me")).toMatchObject({ parent_protected: "keep-me is in [zombies] protected" });
    if (isRoot) expect(rows.find((row) => row.uid === 65534)?.parent_protected).toMatch(/^it belongs to another user \(uid 65534\)$/);
  });

  it("--clean that reaps nothing says, per parent, why and what to do", async () => {
    const leaky = await parentPid("leaky");
    const keep = await parentPid("keep-me");
    const result = await selfheal(box.bus, ["zombies", "--clean"]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(new RegExp(`^reaped 0 zombies, ${isRoot ? 7 : 6} remaining\n`));
    expect(out).toContain(
      `leaky (PID ${leaky}) keeps 2 zombies: it has no SIGCHLD handler: it collects its children only when its own code calls wait(), and it does not.\n` +
        "  They hold no memory or CPU, only a process-table entry each. To be rid of them, restart leaky,\n" +
        `  or end it: selfheal zombies --end-parent ${leaky}\n`,
    );
    expect(out).toContain(`keep-me (PID ${keep}) keeps 1 zombie: `);
    expect(out).toContain("  selfheal will not end it: keep-me is in [zombies] protected. The zombies go when keep-me ends or reaps them.\n");
    if (isRoot) expect(out).toMatch(/selfheal will not end it: it belongs to another user \(uid 65534\)\. The zombies go when perl ends or reaps them\./);
  });

  it("--end-parent refuses PID 1, a protected name, another user's process, a PID with no zombies, and a bad PID", async () => {
    const init = await selfheal(box.bus, ["zombies", "--end-parent", "1"]);
    expect(init.code).toBe(1);
    expect(init.stderr).toBe("selfheal: refusing to signal PID 1: it is PID 1 (init) (Protected)\n");

    const keep = await parentPid("keep-me");
    const protectedOne = await selfheal(box.bus, ["zombies", "--end-parent", String(keep)]);
    expect(protectedOne.code).toBe(1);
    expect(protectedOne.stderr).toBe(`selfheal: refusing to signal PID ${keep}: keep-me is in [zombies] protected (Protected)\n`);

    if (isRoot) {
      const nobody = (await listZombies()).find((row) => row.uid === 65534)!.ppid;
      const other = await selfheal(box.bus, ["zombies", "--end-parent", String(nobody)]);
      expect(other.code).toBe(1);
      expect(other.stderr).toBe(`selfheal: refusing to signal PID ${nobody}: it belongs to another user (uid 65534) (Protected)\n`);
    }

    const none = await selfheal(box.bus, ["zombies", "--end-parent", "4000000"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("selfheal: no process with PID 4000000 (UnknownProcess)\n");

    const bad = await selfheal(box.bus, ["zombies", "--end-parent", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--end-parent needs the PID of a zombie's parent/);

    // Everything is still there.
    expect((await listZombies()).length).toBe(isRoot ? 7 : 6);
  });

  it("--end-parent ends the parent, whatever kill_parents says, and its zombies are reaped", async () => {
    const leaky = await parentPid("leaky");
    // The same method as busctl calls it.
    const introspect = await busctl(box.bus, ["introspect", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE]);
    expect(introspect.stdout).toMatch(/\.EndZombieParent\s+method\s+u\s+uu/);
    const result = await selfheal(box.bus, ["zombies", "--end-parent", String(leaky)]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`ended leaky (PID ${leaky}): reaped 2 zombies, ${isRoot ? 5 : 4} remaining\n`);
    const left = await listZombies();
    expect(left.some((row) => row.parent_name === "leaky")).toBe(false);
    expect(left.some((row) => row.parent_name === "keep-me")).toBe(true);
    expect(box.events().some((event) => event.kind === "zombies-cleaned" && /^ending a zombie parent on request: 2 reaped/.test(event.message))).toBe(true);
  });

  it("the README's EndZombieParent example, run as written, ends the parent named leaky-app", async () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const line = readme.split("\n").find((text) => text.startsWith("busctl ") && text.includes(" EndZombieParent u"));
    expect(line).toBeDefined();
    const leakyApp = await parentPid("leaky-app");
    const result = await run("sh", ["-c", line!], box.bus.env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toMatch(/^uu 3 \d+\n$/);
    expect((await listZombies()).some((row) => row.ppid === leakyApp)).toBe(false);
  });
});
