// Scripts, interpreters and long names, on real processes: each program is
// started by hand before the daemon, and its policy (autostart, the default
// match) must adopt that one instance rather than start a second, while
// unrelated processes of the same interpreters, and a binary whose name shares
// the first 15 characters, are left alone. The bus and the daemon run in a PID
// namespace of their own, so nothing outside it can be adopted.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { sandboxProblem, sleep, waitUntil, type SandboxProcess } from "../fixtures/sandbox.js";
import { DEFAULT_WAIT_MS, selfheal, testProgram } from "../helpers/bus.js";

const problem = sandboxProblem();
const PYTHON = "/usr/bin/python3";
const NODE = process.execPath;
/** Scans the daemon makes while the test looks for a second instance. */
const SCANS_WATCHED = 10;
const INTERVAL_SEC = 0.2;

let box: BusSandbox;
let dir: string;
let paths: Record<string, string>;

interface Case {
  /** The policy's name. */
  name: string;
  /** Its command (the default match derives from it). */
  command: () => string[];
  /** Tells this program's own processes in the namespace (not its children). */
  isInstance: (p: SandboxProcess) => boolean;
}

const isScript = (file: string) => (p: SandboxProcess) => p.cmdline.split(" ").includes(file) && p.comm !== "sleep";
const CASES: Case[] = [
  { name: "long-script", command: () => [paths.longScript!], isInstance: (p) => isScript(paths.longScript!)(p) },
  { name: "short-script", command: () => [paths.shortScript!], isInstance: (p) => isScript(paths.shortScript!)(p) },
  { name: "python-app", command: () => [PYTHON, "app.py"], isInstance: (p) => p.cmdline === `${PYTHON} app.py` },
  { name: "node-server", command: () => [NODE, "server.js"], isInstance: (p) => p.cmdline === `${NODE} server.js` },
  { name: "long-binary", command: () => [paths.longBinary!, "600"], isInstance: (p) => p.cmdline === `${paths.longBinary} 600` },
];

// The hand-started processes of every case, by policy name.
function instances(): Record<string, SandboxProcess[]> {
  const all = box.processes();
  return Object.fromEntries(CASES.map((c) => [c.name, all.filter(c.isInstance)]));
}

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "scripts" });
  dir = box.dir;
  paths = {
    // comm shows "a-rather-long-n": the script's name cut to 15 characters; exe is bash.
    longScript: join(dir, "a-rather-long-named-worker.sh"),
    // Run through env: comm and exe are python3's; argv is ["python3", script].
    shortScript: join(dir, "tick.py"),
    longBinary: testProgram(dir, "a-very-long-binary-name-sleeper"),
    // Same first 15 characters as the long binary: its comm is the same.
    otherBinary: testProgram(dir, "a-very-long-binary-name-other"),
  };
  writeFileSync(paths.longScript!, "#!/bin/bash\nwhile true; do sleep 1; done\n", { mode: 0o755 });
  writeFileSync(paths.shortScript!, "#!/usr/bin/env python3\nimport time\ntime.sleep(600)\n", { mode: 0o755 });
  writeFileSync(join(dir, "app.py"), "import time\ntime.sleep(600)\n");
  writeFileSync(join(dir, "other.py"), "import time\ntime.sleep(600)\n");
  writeFileSync(join(dir, "server.js"), "setTimeout(() => {}, 600_000);\n");
  const policies = CASES.map((c) => `[process.${c.name}]\ncommand = ${JSON.stringify(c.command())}\ncwd = "${dir}"\nautostart = true\n`);
  box.writeConfig(`[settings]\ninterval = ${INTERVAL_SEC}\n\n${policies.join("\n")}`);
  // Unrelated processes of the same interpreters and prefix, started first (adoption takes the oldest match)...
  box.run(`cd ${dir} && exec ${PYTHON} other.py`);
  box.run(`exec ${NODE} -e "setTimeout(() => {}, 600000)"`);
  box.run(`exec bash -c "sleep 600; true"`);
  box.run(`exec ${paths.otherBinary} 600`);
  await waitUntil(() => box.processes().length >= 6, DEFAULT_WAIT_MS, () => "the unrelated processes did not start");
  await sleep(100);
  // ...then by hand, before the daemon: one instance of each program.
  box.run(`exec ${paths.longScript}`);
  // env finds python3 on PATH: the system's, not a version manager's shim that would run in between.
  box.run(`PATH=/usr/bin:/bin exec ${paths.shortScript}`);
  box.run(`cd ${dir} && exec ${PYTHON} app.py`);
  box.run(`cd ${dir} && exec ${NODE} server.js`);
  box.run(`exec ${paths.longBinary} 600`);
  await waitUntil(() => Object.values(instances()).every((found) => found.length === 1), DEFAULT_WAIT_MS, () => `not every program started: ${JSON.stringify(instances())}`);
});

afterAll(async () => {
  await box?.close();
});

describe.skipIf(problem !== null)("programs started by hand before the daemon, autostart on", () => {
  it("each is adopted (its own PID, not started by selfheal), and stays the one instance", async () => {
    const before = instances();
    const status = await selfheal(box.bus, ["status", "--json"]);
    expect(status).toMatchObject({ code: 0, stderr: "" });
    const records = (JSON.parse(status.stdout) as { processes: Array<{ name: string; pid: number; state: string; managed: boolean }> }).processes;
    const seen = Object.fromEntries(records.map(({ name, state, managed, pid }) => [name, { state, managed, pid }]));
    const wanted = Object.fromEntries(CASES.map((c) => [c.name, { state: "running", managed: false, pid: before[c.name]![0]!.nsPid }]));
    expect(seen).toEqual(wanted);
    await sleep(SCANS_WATCHED * INTERVAL_SEC * 1000);
    const after = instances();
    for (const c of CASES) expect(after[c.name]!.map((p) => p.nsPid), c.name).toEqual(before[c.name]!.map((p) => p.nsPid));
    expect(box.events().filter((event) => event.kind === "started")).toEqual([]);
    expect(box.events().filter((event) => event.kind === "adopted").map((event) => event.name).sort()).toEqual(CASES.map((c) => c.name).sort());
  });
});
