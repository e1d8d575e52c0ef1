// Crash protection across a restart of the daemon: a program that selfheal
// started keeps its keeper (its parent, outside the daemon), so after the
// daemon is killed with SIGKILL and started again, the program is re-attached
// as selfheal's own, and its end is still told crash from clean exit. Real
// daemon, real programs, a private bus; only the test's own programs (unique
// names) and the daemons it started are ever signalled.
import { afterEach, describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { connectClient, plain, processOf, type BusClient } from "../helpers/bus.js";
import { isRunning, killQuietly, makeTestDir, startDaemon, uniqueSleep, waitFor, type RunningDaemon } from "../helpers/daemon.js";

const UNTIL_USR2 = resolve(import.meta.dirname, "fixtures/until-usr2.pl");
const KEEPER_COMM = "selfheal-keeper";

let daemon: RunningDaemon | null = null;
let client: BusClient | null = null;
const leftovers: number[] = [];

afterEach(async () => {
  client?.close();
  client = null;
  await daemon?.cleanup();
  daemon = null;
  killQuietly(leftovers.splice(0));
});

function policyToml(name: string, command: string[], extra = ""): string {
  return `[process.${name}]\ncommand = ${JSON.stringify(command)}\nautostart = true\n${extra}\n`;
}

// The keepers (by comm) whose command line names `dir` (the test's runtime folder) and that hold a program
// (the daemon also keeps one idle keeper ready for the next start, with no child).
function keepersOf(dir: string): number[] {
  const keepers: number[] = [];
  const parents = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z") parents.add(Number(ppid));
      if (comm !== KEEPER_COMM || state === "Z") continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) keepers.push(Number(entry));
    } catch {
      // gone
    }
  }
  return keepers.filter((pid) => parents.has(pid));
}

// What keepers left in the records' folder: records, and files in the subfolder they write in (an empty subfolder is no leftover).
function leftIn(dir: string): string[] {
  const writing = join(dir, ".writing");
  const inWriting = existsSync(writing) ? readdirSync(writing).map((name) => `.writing/${name}`) : [];
  return [...readdirSync(dir).filter((name) => name !== ".writing"), ...inWriting];
}

// The idle keepers of `dir`: started ahead of need, holding no program yet.
function idleKeepersOf(dir: string): number[] {
  const holding = new Set(keepersOf(dir));
  return processes()
    .filter((p) => p.comm === KEEPER_COMM && p.state !== "Z" && !holding.has(p.pid) && cmdlineOf(p.pid).includes(dir))
    .map((p) => p.pid);
}

// The live children of `pid`.
function childrenOf(pid: number): number[] {
  return processes()
    .filter((p) => p.ppid === pid && p.state !== "Z")
    .map((p) => p.pid);
}

function startTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

// Every process's pid, comm, state and parent.
function processes(): Array<{ pid: number; comm: string; state: string; ppid: number }> {
  const found: Array<{ pid: number; comm: string; state: string; ppid: number }> = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      found.push({ pid: Number(entry), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), state: state ?? "", ppid: Number(ppid) });
    } catch {
      // gone
    }
  }
  return found;
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

// Start a daemon on `config`, wait for `name` to start; returns its pid.
async function startWith(config: string, dir: string, name: string): Promise<number> {
  daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n${config}`, { dir });
  client = await connectClient(daemon.bus);
  const started = await daemon.waitForEvent("started", (e) => e.name === name);
  return started.pid;
}

// Kill the daemon with SIGKILL and start it again on the same folders; resolves once it is ready.
async function killAndRestart(): Promise<number> {
  const before = daemon!.events().length;
  expect(await daemon!.stop("SIGKILL")).toBe("SIGKILL");
  await daemon!.restart();
  return before;
}

describe("a program selfheal started, after the daemon was killed with SIGKILL and started again", () => {
  it("is selfheal's own at the first answer (managed, same PID), and a SIGSEGV is told and restarted", async () => {
    const dir = makeTestDir("keep-segv");
    const program = uniqueSleep(dir, "kpsegv");
    const pid = await startWith(policyToml("kpsegv", [program, "300"]), dir, "kpsegv");
    const before = await killAndRestart();

    const record = await processOf(client!, "kpsegv");
    expect(record).toMatchObject({ pid, state: "running", managed: true });
    expect(daemon!.events().slice(before).filter((e) => e.kind === "adopted")).toEqual([]);

    process.kill(pid, "SIGSEGV");
    const crashed = await daemon!.waitForEvent("crashed", (e) => e.pid === pid);
    expect(crashed).toMatchObject({ signal: "SIGSEGV", exitCode: null, statusKnown: true, willRestart: true });
    const restarted = await daemon!.waitForEvent("restarted", (e) => e.oldPid === pid);
    expect(restarted.reason).toBe("crash");
    expect(isRunning(restarted.newPid)).toBe(true);
    const signal = await client!.signals.waitFor("ProcessCrashed", (args) => args[0] === "kpsegv");
    expect(plain(signal.args)).toEqual(["kpsegv", pid, -1, "SIGSEGV", true]);
    leftovers.push(restarted.newPid);
  });

  it("exit 0 is a normal end: not restarted under on-failure", async () => {
    const dir = makeTestDir("keep-exit0");
    const pid = await startWith(
      policyToml("kpexit0", ["perl", UNTIL_USR2, "0", "kpexit0"], 'match = "/until-usr2\\\\.pl 0 kpexit0/"'),
      dir,
      "kpexit0",
    );
    const before = await killAndRestart();
    expect(await processOf(client!, "kpexit0")).toMatchObject({ pid, managed: true });

    process.kill(pid, "SIGUSR2");
    const exited = await daemon!.waitForEvent("exited", (e) => e.pid === pid);
    expect(exited).toMatchObject({ exitCode: 0, signal: null, statusKnown: true, willRestart: false });
    await new Promise((r) => setTimeout(r, 1000));
    const after = daemon!.events().slice(before);
    expect(after.filter((e) => e.kind === "started" || e.kind === "restarted" || e.kind === "adopted")).toEqual([]);
    expect(await processOf(client!, "kpexit0")).toMatchObject({ pid: 0, state: "exited" });
  });

  it("an exit code other than 0 is told as such and restarted", async () => {
    const dir = makeTestDir("keep-exit3");
    const pid = await startWith(
      policyToml("kpexit3", ["perl", UNTIL_USR2, "3", "kpexit3"], 'match = "/until-usr2\\\\.pl 3 kpexit3/"'),
      dir,
      "kpexit3",
    );
    await killAndRestart();
    process.kill(pid, "SIGUSR2");
    const crashed = await daemon!.waitForEvent("crashed", (e) => e.pid === pid);
    expect(crashed).toMatchObject({ exitCode: 3, signal: null, statusKnown: true, willRestart: true });
    const restarted = await daemon!.waitForEvent("restarted", (e) => e.oldPid === pid);
    leftovers.push(restarted.newPid);
  });

  it("a crash while no daemon runs is handled as a crash when the daemon starts again", async () => {
    const dir = makeTestDir("keep-away");
    const program = uniqueSleep(dir, "kpaway");
    const pid = await startWith(policyToml("kpaway", [program, "300"]), dir, "kpaway");
    const before = daemon!.events().length;
    await daemon!.stop("SIGKILL");
    process.kill(pid, "SIGSEGV");
    await waitFor(() => !isRunning(pid), 5000, () => `PID ${pid} did not end`);
    await daemon!.restart();
    const crashed = await daemon!.waitForEvent("crashed", (e) => e.pid === pid);
    expect(crashed).toMatchObject({ signal: "SIGSEGV", statusKnown: true, willRestart: true });
    expect(crashed.message).toContain("before selfheal was started again");
    const restarted = await daemon!.waitForEvent("restarted", (e) => e.oldPid === pid);
    expect(restarted.reason).toBe("crash");
    expect(daemon!.events().slice(before).filter((e) => e.kind === "started" || e.kind === "adopted")).toEqual([]);
    leftovers.push(restarted.newPid);
  });

  it("StopProcess ends the program and its keeper: nothing is left behind, nor a record", async () => {
    const dir = makeTestDir("keep-stop");
    const program = uniqueSleep(dir, "kpstop");
    const pid = await startWith(policyToml("kpstop", [program, "300"]), dir, "kpstop");
    const keeper = parentOf(pid);
    expect(keepersOf(daemon!.runtimeDir)).toEqual([keeper]);
    await killAndRestart();
    await client!.call("StopProcess", "s", ["kpstop"]);
    await waitFor(() => !isRunning(pid), 5000, () => `PID ${pid} still runs after StopProcess`);
    await waitFor(() => !isRunning(keeper), 5000, () => `its keeper (PID ${keeper}) still runs`);
    expect(keepersOf(daemon!.runtimeDir)).toEqual([]);
    await waitFor(() => leftIn(daemon!.runtimeDir).length === 0, 5000, () => `records left: ${leftIn(daemon!.runtimeDir).join(", ")}`);
    expect(await processOf(client!, "kpstop")).toMatchObject({ pid: 0, state: "stopped" });
    await daemon!.waitForEvent("stopped", (e) => e.pid === pid);
  });
});

describe("a crash whose restart waits (the backoff), when the daemon is killed with SIGKILL meanwhile", () => {
  it("is restarted by the next daemon: the keeper's record of the crash stays until the restart is handed over", async () => {
    const dir = makeTestDir("keep-backoff");
    const program = uniqueSleep(dir, "kpback");
    const flag = join(dir, "crash");
    const script = join(dir, "kpbackrun");
    // Crashes at once while the flag exists (a crash loop, so the restarts back off), else runs.
    writeFileSync(script, `#!/bin/sh\n[ -e "${flag}" ] && exit 1\nexec "${program}" 300\n`, { mode: 0o755 });
    writeFileSync(flag, "");
    // autostart = false: nothing but the crash's restart brings it back after the daemon's restart.
    const policy = `[process.kpback]\ncommand = ["${script}"]\nautostart = false\ncooldown = { max_restarts = 100, window = 60, pause = 1 }\n`;
    daemon = await startDaemon(`[settings]\ninterval = 0.2\n\n${policy}`, { dir });
    client = await connectClient(daemon.bus);
    // It may crash before the call returns (the call then says it could not start it): the crash loop has begun either way.
    await client.call("StartProcess", "s", ["kpback"]).catch(() => undefined);
    // The 8th crash in a row waits 5 s for its restart (100 ms, doubling, at most 5 s): the daemon is killed in that wait.
    const crashes = (): number => daemon!.events().filter((e) => e.kind === "crashed" && e.name === "kpback").length;
    await waitFor(() => crashes() >= 8, 30_000, () => `only ${crashes()} crashes`);
    rmSync(flag);
    const eighth = daemon.events().filter((e) => e.kind === "crashed" && e.name === "kpback").at(-1)!;
    await daemon.stop("SIGKILL");
    const lastOfA = daemon.events().filter((e) => "name" in e && e.name === "kpback").at(-1)!;
    // The premise: daemon A died during the wait, before it restarted the program.
    expect(lastOfA).toEqual(eighth);
    expect(eighth).toMatchObject({ willRestart: true });
    const before = daemon.events().length;
    await daemon.restart();
    await waitFor(
      () => daemon!.events().slice(before).some((e) => (e.kind === "restarted" || e.kind === "started") && e.name === "kpback"),
      15_000,
      () => `daemon B did not start kpback again: ${JSON.stringify(daemon!.events().slice(before).filter((e) => "name" in e && e.name === "kpback"))}`,
    );
    // B tells the crash it learned from the record, without claiming that no daemon ran when it happened: A did.
    const told = daemon.events().slice(before).find((e) => e.kind === "crashed" && e.name === "kpback");
    expect(told?.message).toContain("before selfheal was started again");
    expect(told?.message).not.toContain("not running");
    const back = daemon.events().slice(before).find((e) => (e.kind === "restarted" || e.kind === "started") && e.name === "kpback")!;
    const pid = back.kind === "restarted" ? back.newPid : back.kind === "started" ? back.pid : 0;
    leftovers.push(pid);
    await waitFor(() => isRunning(pid), 5000, () => `PID ${pid} is not running`);
    expect(await processOf(client!, "kpback").catch(async () => {
      client?.close();
      client = await connectClient(daemon!.bus);
      return processOf(client, "kpback");
    })).toMatchObject({ pid, state: "running", managed: true });
    // Exactly one copy runs.
    await new Promise((r) => setTimeout(r, 500));
    expect(daemon.events().slice(before).filter((e) => (e.kind === "restarted" || e.kind === "started") && e.name === "kpback")).toHaveLength(1);
  });
});

describe("the daemon killed with SIGKILL in the middle of a restart", () => {
  it("after the job went to the keeper, before the keeper reported: the next daemon takes the new program back, and starts no other", async () => {
    const dir = makeTestDir("keep-mid");
    const program = uniqueSleep(dir, "kpmid");
    const pid = await startWith(policyToml("kpmid", [program, "300"]), dir, "kpmid");
    // The idle keeper the next start goes to, held still (SIGSTOP) so that the daemon dies before it reports.
    await waitFor(() => idleKeepersOf(daemon!.runtimeDir).length === 1, 10_000, () => "no idle keeper");
    const [standby] = idleKeepersOf(daemon!.runtimeDir);
    process.kill(standby!, "SIGSTOP");
    try {
      process.kill(pid, "SIGSEGV");
      await daemon!.waitForEvent("crashed", (e) => e.pid === pid);
      await daemon!.stop("SIGKILL");
    } finally {
      process.kill(standby!, "SIGCONT");
    }
    // The keeper had its job: it starts the program with no daemon listening.
    await waitFor(() => childrenOf(standby!).length === 1, 10_000, () => `the keeper (PID ${standby}) started nothing`);
    const [replacement] = childrenOf(standby!);
    leftovers.push(replacement!);
    const before = daemon!.events().length;
    await daemon!.restart();
    const reattached = await daemon!.waitForEvent("reattached", (e) => e.name === "kpmid");
    expect(reattached.pid).toBe(replacement);
    await new Promise((r) => setTimeout(r, 1000));
    const ofB = daemon!.events().slice(before).filter((e) => "name" in e && e.name === "kpmid");
    expect(ofB.map((e) => e.kind)).toEqual(["reattached"]);
    expect(keepersOf(daemon!.runtimeDir)).toEqual([standby]);
    // The crash's record was dropped as the job went out: one record, the new program's.
    expect(leftIn(daemon!.runtimeDir)).toEqual([`${standby}-${startTicksOf(standby!)}.keeper`]);
  });

  it("after the program forked away: the next daemon watches the process it followed, and restarts it when it crashes", async () => {
    const dir = makeTestDir("keep-forked");
    const program = uniqueSleep(dir, "kpforked");
    const launcher = join(dir, "kpforkedrun");
    writeFileSync(launcher, `#!/bin/sh\n"${program}" 300 &\nexit 0\n`, { mode: 0o755 });
    const config = `[process.kpforked]\ncommand = ["${launcher}"]\nmatch = "kpforked"\nautostart = true\n`;
    const first = await startWith(config, dir, "kpforked");
    const followed = await daemon!.waitForEvent("followed", (e) => e.oldPid === first);
    await killAndRestart();
    const reattached = await daemon!.waitForEvent("reattached", (e) => e.name === "kpforked");
    expect(reattached.pid).toBe(followed.newPid);
    expect(await processOf(client!, "kpforked")).toMatchObject({ pid: followed.newPid, managed: true });
    process.kill(followed.newPid, "SIGSEGV");
    const crashed = await daemon!.waitForEvent("crashed", (e) => e.pid === followed.newPid);
    expect(crashed).toMatchObject({ signal: "SIGSEGV", statusKnown: true, willRestart: true });
    const again = await daemon!.waitForEvent("followed", (e) => e.oldPid !== first);
    leftovers.push(again.newPid);
  });
});

describe("the keeper", () => {
  it("is the program's parent, and the program keeps its own PID and session", async () => {
    const dir = makeTestDir("keep-parent");
    const program = uniqueSleep(dir, "kpparent");
    const pid = await startWith(policyToml("kpparent", [program, "300"]), dir, "kpparent");
    expect(keepersOf(daemon!.runtimeDir)).toEqual([parentOf(pid)]);
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1").slice(readFileSync(`/proc/${pid}/stat`, "latin1").lastIndexOf(")") + 2).split(" ");
    expect(Number(stat[3])).toBe(pid); // its own session's leader, as before
    expect(existsSync(daemon!.runtimeDir)).toBe(true);
  });

  it("killed with SIGKILL leaves the program running; the daemon says its exit status is lost", async () => {
    const dir = makeTestDir("keep-lost");
    const program = uniqueSleep(dir, "kplost");
    const pid = await startWith(policyToml("kplost", [program, "300"]), dir, "kplost");
    process.kill(parentOf(pid), "SIGKILL");
    const adopted = await daemon!.waitForEvent("adopted", (e) => e.pid === pid);
    expect(adopted.message).toContain("keeper");
    expect(isRunning(pid)).toBe(true);
    expect(await processOf(client!, "kplost")).toMatchObject({ pid, managed: false });
    leftovers.push(pid);
  });

  it("passes SIGTERM sent to it on to the program, and records that end", async () => {
    const dir = makeTestDir("keep-term");
    const program = uniqueSleep(dir, "kpterm");
    const pid = await startWith(policyToml("kpterm", [program, "300"]), dir, "kpterm");
    process.kill(parentOf(pid), "SIGTERM");
    const exited = await daemon!.waitForEvent("exited", (e) => e.pid === pid);
    expect(exited).toMatchObject({ signal: "SIGTERM", statusKnown: true, willRestart: false });
  });
});
