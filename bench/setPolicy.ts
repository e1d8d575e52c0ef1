// SetPolicy with an `app` key, on a private bus with the built daemon: the call → reply time
// (SetPolicy and RemovePolicy alternately, the app's program running so that each SetPolicy
// adopts it), the daemon's CPU per call (its threads' schedstat run time), and, under strace,
// the files a call opens and the folders it lists. Then the parts of the daemon's work timed
// alone, in this process: the app's look (data dirs listed, desktop file read), a policy's
// validation, the overrides file re-read to decide on a backup, the atomic write.
//
// The data dir holds FILLER_APPS desktop files besides the test's (a desktop has a few hundred
// installed), and OTHER_APPS app policies are in force already (each re-checked by a save).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

import dbus from "dbus-next";

import { connectClient, killProgramsIn, makeTempDir, startPrivateBus, startSelfheal, testProgram } from "../test/helpers/bus.js";
import { printTable } from "./scan.js";

const { Variant } = dbus;
const FILLER_APPS = 200;
const OTHER_APPS = 5;
const WARMUP_PAIRS = 10;
const MEASURED_PAIRS = 100;
const STRACE_PAIRS = 10;
const PARTS_ROUNDS = 200;

// The run time of all a process's threads so far, ns (schedstat's first field, summed over /proc/PID/task).
function runNsOf(pid: number): number {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return total;
}

function desktopFile(applications: string, id: string, lines: string[]): void {
  writeFileSync(join(applications, `${id}.desktop`), ["[Desktop Entry]", "Type=Application", ...lines, ""].join("\n"));
}

export async function benchSetPolicy(): Promise<void> {
  const dir = makeTempDir("bench-setpolicy");
  const share = join(dir, "share");
  const applications = join(share, "applications");
  mkdirSync(applications, { recursive: true });
  const program = testProgram(dir, "sbbenchapp");
  desktopFile(applications, "org.example.Bench", ["Name=Bench App", "Icon=bench-icon", `Exec=${program} 900 %U`, `TryExec=${program}`]);
  for (let i = 0; i < OTHER_APPS; i++) desktopFile(applications, `org.example.Other${i}`, [`Name=Other ${i}`, `Exec=${testProgram(dir, `sbother${i}`)} 900`]);
  for (let i = 0; i < FILLER_APPS; i++) {
    desktopFile(applications, `org.example.Filler${i}`, [`Name=Filler ${i}`, "Comment=An installed app nobody watches", `Exec=/usr/bin/filler${i} %F`, "Categories=Utility;", "Icon=filler"]);
  }
  const running: ChildProcess = spawn(program, ["900"], { detached: true, stdio: "ignore" });
  running.unref();
  const bus = await startPrivateBus();
  const daemon = await startSelfheal(bus, { config: "[settings]\ninterval = 3600\n", env: { XDG_DATA_DIRS: share } });
  const client = await connectClient(bus);
  try {
    for (let i = 0; i < OTHER_APPS; i++) await client.call("SetPolicy", "sa{sv}", [`other${i}`, { app: new Variant("s", `org.example.Other${i}`) }]);
    const set = () => client.call("SetPolicy", "sa{sv}", ["bench", { app: new Variant("s", "org.example.Bench") }]);
    const remove = () => client.call("RemovePolicy", "s", ["bench"]);
    for (let i = 0; i < WARMUP_PAIRS; i++) {
      await set();
      await remove();
    }
    const setMs: number[] = [];
    const removeMs: number[] = [];
    const setCpu: number[] = [];
    const removeCpu: number[] = [];
    const timed = async (call: () => Promise<unknown>, times: number[], cpu: number[]) => {
      const ns = runNsOf(daemon.pid);
      const start = performance.now();
      await call();
      times.push(performance.now() - start);
      cpu.push((runNsOf(daemon.pid) - ns) / 1e6);
    };
    for (let i = 0; i < MEASURED_PAIRS; i++) {
      await timed(set, setMs, setCpu);
      await timed(remove, removeMs, removeCpu);
    }
    const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    console.log(`\nD-Bus: SetPolicy with app (the app running, adopted) and RemovePolicy, alternately; ${OTHER_APPS} other app policies, ${FILLER_APPS + OTHER_APPS + 1} desktop files (load ${load})`);
    printTable([
      ["SetPolicy app → reply, ms", setMs],
      ["RemovePolicy → reply, ms", removeMs],
      ["daemon CPU per SetPolicy, ms", setCpu],
      ["daemon CPU per RemovePolicy, ms", removeCpu],
    ]);
    await straceCounts(daemon.pid, dir, async () => {
      for (let i = 0; i < STRACE_PAIRS; i++) {
        await set();
        await remove();
      }
    });
  } finally {
    client.close();
    await daemon.cleanup(dir);
    killProgramsIn(dir);
    await bus.stop();
  }
  await benchParts(share, dir);
  rmSync(dir, { recursive: true, force: true });
}

// Under strace, STRACE_PAIRS SetPolicy + RemovePolicy pairs: per pair, the desktop files opened, the
// folders listed (getdents64), the overrides file opened, fsyncs.
async function straceCounts(pid: number, dir: string, calls: () => Promise<void>): Promise<void> {
  const out = join(dir, "strace.txt");
  const tracer = spawn("strace", ["-f", "-qq", "-p", String(pid), "-e", "trace=openat,getdents64,fsync,fdatasync,rename,readlink", "-o", out], { stdio: "ignore" });
  // strace is attached once it has written its first line for the daemon's threads; a short wait is enough for a count.
  await new Promise((r) => setTimeout(r, 1000));
  await calls();
  await new Promise((r) => setTimeout(r, 300));
  tracer.kill("SIGINT");
  await new Promise((r) => tracer.once("exit", r));
  const lines = readFileSync(out, "utf8").split("\n");
  const per = (test: (line: string) => boolean) => (lines.filter(test).length / STRACE_PAIRS).toFixed(1);
  console.log(`strace -f of the daemon over ${STRACE_PAIRS} SetPolicy(app) + RemovePolicy pairs, per pair:`);
  console.log(
    `  desktop files opened ${per((l) => l.includes("openat(") && l.includes(".desktop"))}, ` +
      `the app's own ${per((l) => l.includes("openat(") && l.includes("org.example.Bench.desktop"))}, ` +
      `folder listings (getdents64) ${per((l) => l.includes("getdents64("))}, ` +
      `overrides file opened ${per((l) => l.includes("openat(") && l.includes("overrides.json") && !l.includes(".tmp"))}, ` +
      `fsync ${per((l) => /fsync\(|fdatasync\(/.test(l))}, /proc readlink ${per((l) => l.includes("readlink("))}, calls traced (openat, getdents64, fsync, rename, readlink) ${per((l) => /^\d+ +\w+\(/.test(l))}`,
  );
}

// The parts timed alone, in this process, over the same data dir.
async function benchParts(share: string, dir: string): Promise<void> {
  const saved = process.env.XDG_DATA_DIRS;
  const savedHome = process.env.XDG_DATA_HOME;
  process.env.XDG_DATA_DIRS = share;
  process.env.XDG_DATA_HOME = join(dir, "nohome");
  try {
    const { resolveApp, desktopFiles, resolvingAppsOnce } = await import("../daemon/apps/catalog.js");
    const { applicationDirs } = await import("../daemon/apps/dataDirs.js");
    const { validatePolicyObject } = await import("../daemon/config/load.js");
    const { loadOverrides, serialiseOverrides, saveOverrides } = await import("../daemon/config/overrides.js");
    const { writeFileAtomic } = await import("../daemon/state/atomic.js");
    const overridesPath = join(dir, "parts", "overrides.json");
    const policies: Record<string, { set: Record<string, unknown>; unset: string[] }> = { bench: { set: { app: "org.example.Bench" }, unset: [] } };
    for (let i = 0; i < OTHER_APPS; i++) policies[`other${i}`] = { set: { app: `org.example.Other${i}` }, unset: [] };
    const overrides = { policies, removed: [] };
    mkdirSync(join(dir, "parts"), { recursive: true });
    writeFileSync(overridesPath, serialiseOverrides(overrides));
    const time = async (call: () => unknown): Promise<number[]> => {
      const times: number[] = [];
      for (let i = 0; i < PARTS_ROUNDS; i++) {
        const start = performance.now();
        await call();
        times.push(performance.now() - start);
      }
      return times;
    };
    const dirs = applicationDirs(process.env);
    console.log(`\nSetPolicy's parts, alone in this process (${PARTS_ROUNDS} rounds; ${FILLER_APPS + OTHER_APPS + 1} desktop files, ${OTHER_APPS + 1} app overrides)`);
    printTable([
      ["data dirs listed (desktopFiles), ms", await time(() => desktopFiles(dirs))],
      ["app looked up (desktop file found and read), ms", await time(() => resolveApp("org.example.Bench"))],
      ["app policy validated (one edit), ms", await time(() => resolvingAppsOnce(async () => validatePolicyObject("bench", { app: "org.example.Bench" }, "SetPolicy")))],
      ["overrides file re-read and re-checked (the backup decision before), ms", await time(() => resolvingAppsOnce(async () => loadOverrides(overridesPath)))],
      ["atomic write, data fsync'd (no directory flush), ms", await time(() => writeFileAtomic(overridesPath, serialiseOverrides(overrides), { flushDirectory: "after" }))],
      ["saveOverrides, file unknown: checked, then written, ms", await time(() => resolvingAppsOnce(() => saveOverrides(overridesPath, overrides)))],
      ["saveOverrides, file as last written: compared, written, ms", await time(() => saveOverrides(overridesPath, overrides, serialiseOverrides(overrides)))],
    ]);
  } finally {
    if (saved === undefined) delete process.env.XDG_DATA_DIRS;
    else process.env.XDG_DATA_DIRS = saved;
    if (savedHome === undefined) delete process.env.XDG_DATA_HOME;
    else process.env.XDG_DATA_HOME = savedHome;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSetPolicy();
