// The signal guard and the one-process stat reader on the real /proc, with
// children of the test's own; nothing else is ever signalled.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SignalGuard, ProtectedError } from "../../daemon/safety/guard.js";
import { readStatLine } from "../../daemon/proc/statLine.js";
import { ProcProbe } from "../../daemon/proc/probe.js";
import { ProcScanner } from "../../daemon/proc/scan.js";
import type { ProcessSample } from "../../daemon/proc/types.js";
import { makeTestDir, waitFor } from "../helpers/daemon.js";

const children: ChildProcess[] = [];
let dir = "";
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// A sleeping child under an odd name, seen in /proc before the test goes on.
async function sleeper(name: string, argv: string[] = []): Promise<ChildProcess> {
  dir = makeTestDir("guard");
  const program = join(dir, name);
  copyFileSync("/bin/sleep", program);
  const child = spawn(argv[0] ?? program, argv.length > 0 ? [...argv.slice(1), program, "30"] : ["30"], { stdio: "ignore" });
  children.push(child);
  await waitFor(() => readStatLine("/proc", child.pid!)?.comm === name.slice(0, 15), 5000, () => `${name} did not start`);
  return child;
}

describe("readStatLine", () => {
  it("reads a comm holding spaces and parentheses, and the fields after it", async () => {
    const child = await sleeper("x) R 1 (y");
    const stat = readStatLine("/proc", child.pid!);
    expect(stat).toMatchObject({ comm: "x) R 1 (y", ppid: process.pid, kernelThread: false });
    expect(stat!.startTicks).toBeGreaterThan(0);
    expect(new ProcProbe().isAlive(child.pid!, stat!.startTicks)).toBe(true);
    expect(new ProcProbe().isAlive(child.pid!, stat!.startTicks + 1)).toBe(false);
  });

  it("is null for a process that is gone", () => {
    expect(readStatLine("/proc", 2 ** 22 + 1)).toBeNull();
  });
});

describe("SignalGuard", () => {
  it("refuses PID 1, the daemon itself and its ancestors", () => {
    const guard = new SignalGuard();
    expect(guard.reasonToRefuse(1)).toBe("it is PID 1 (init)");
    expect(guard.reasonToRefuse(process.pid)).toBe("it is the selfheal daemon itself");
    expect(guard.reasonToRefuse(process.ppid)).toBe("it is an ancestor of the selfheal daemon");
    expect(() => guard.kill(process.ppid, "SIGTERM")).toThrow(ProtectedError);
  });

  it("refuses the daemon's own sentinel, and a process of that name that is not its child is judged as any other", async () => {
    const sentinel = await sleeper("selfheal-sentinel");
    const guard = new SignalGuard();
    expect(guard.reasonToRefuse(sentinel.pid!)).toBe("it is the selfheal daemon's sentinel");
    expect(() => guard.kill(sentinel.pid!, "SIGKILL")).toThrow(ProtectedError);
    const sample = readStatLine("/proc", sentinel.pid!)!;
    expect(guard.refusalFor({ ...sample, pid: sentinel.pid!, uid: process.getuid!(), ppid: 1 } as ProcessSample)).toBeNull();
  });

  it("refuses another user's process and signals nothing to it", async () => {
    const child = await sleeper("guard-nobody", ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
    const guard = new SignalGuard();
    expect(guard.reasonToRefuse(child.pid!)).toBe("it belongs to another user (uid 65534)");
    expect(() => guard.kill(child.pid!, "SIGTERM")).toThrow(/another user/);
    expect(readStatLine("/proc", child.pid!)?.state).not.toBe("Z");
  });

  it("refuses a protected name and lets the user's own process be signalled", async () => {
    const child = await sleeper("guard-own");
    expect(new SignalGuard({ protectedNames: ["guard-own"] }).reasonToRefuse(child.pid!)).toMatch(/part of the desktop session/);
    const guard = new SignalGuard();
    expect(guard.reasonToRefuse(child.pid!)).toBeNull();
    const ended = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    guard.kill(child.pid!, "SIGTERM");
    expect(await ended).toBe("SIGTERM");
  });

  it("signals a process named by (pid, start time) only while that PID is still that process", async () => {
    const child = await sleeper("guard-ident");
    const startTicks = readStatLine("/proc", child.pid!)!.startTicks;
    const guard = new SignalGuard();
    // Another start time: the PID would name another process now; nothing is sent and nothing is thrown.
    guard.kill(child.pid!, "SIGSTOP", startTicks + 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readStatLine("/proc", child.pid!)?.state).toBe("S");
    const ended = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    guard.kill(child.pid!, "SIGTERM", startTicks);
    expect(await ended).toBe("SIGTERM");
  });

  it("refuses the leader of a terminal session (a login or terminal shell), by pid and by a scan's sample", async () => {
    dir = makeTestDir("guard");
    const program = join(dir, "guard-tty");
    copyFileSync("/bin/sleep", program);
    // script(1) gives its command a pty as controlling terminal, in a session of its own.
    const holder = spawn("script", ["-qfec", `exec ${program} 30`, "/dev/null"], { stdio: "ignore" });
    children.push(holder);
    let leader: ProcessSample | undefined;
    await waitFor(() => (leader = [...new ProcScanner().scan().processes.values()].find((p) => p.comm === "guard-tty")) !== undefined, 5000, () => "no terminal session");
    expect(leader!.sid).toBe(leader!.pid);
    expect(leader!.ttyNr).not.toBe(0);
    const guard = new SignalGuard();
    const why = "it is guard-tty, which leads a terminal session (a login or terminal shell)";
    expect(guard.reasonToRefuse(leader!.pid)).toBe(why);
    expect(guard.refusalFor(leader!)).toBe(why);
    expect(() => guard.kill(leader!.pid, "SIGTERM")).toThrow(ProtectedError);
    expect(readStatLine("/proc", leader!.pid)?.state).toBe("S");
    // The holder is the test's own child, with no terminal of its own: it may be signalled.
    expect(guard.reasonToRefuse(holder.pid!)).toBeNull();
  });
});

// A shell leading a session and group of its own (detached: setsid), with two sleeping children;
// `second` is the second child's command line (e.g. run as another user).
async function session(second = "sleep 30"): Promise<{ leader: ChildProcess; members: () => ProcessSample[] }> {
  const leader = spawn("bash", ["-c", `sleep 30 & ${second} & wait`], { stdio: "ignore", detached: true });
  children.push(leader);
  const members = (): ProcessSample[] => [...new ProcScanner().scan().processes.values()].filter((p) => p.sid === leader.pid);
  await waitFor(() => members().filter((p) => p.comm === "sleep").length === 2, 5000, () => "the session's children did not start");
  return { leader, members };
}

describe("SignalGuard.killGroup", () => {
  afterEach(() => {
    // The detached sessions' children are not the test's own: end each whole group.
    for (const child of children) if (child.pid) try { process.kill(-child.pid, "SIGKILL"); } catch { /* already gone */ }
  });

  it("stops, then ends, a session's whole group in one call", async () => {
    const { leader, members } = await session();
    const guard = new SignalGuard();
    const ticks = readStatLine("/proc", leader.pid!)!.startTicks;
    expect(guard.killGroup(new ProcScanner().scan(), leader.pid!, ticks, "SIGSTOP")).toBe(true);
    await waitFor(() => members().every((p) => p.state === "T"), 5000, () => `not all stopped: ${members().map((p) => p.state).join(" ")}`);
    expect(members()).toHaveLength(3);
    expect(guard.killGroup(new ProcScanner().scan(), leader.pid!, ticks, "SIGKILL")).toBe(true);
    await waitFor(() => members().every((p) => p.state === "Z"), 5000, () => "not all ended");
  });

  it("sends nothing when the leader is not the process named, or leads no session of its own", async () => {
    const { leader, members } = await session();
    const guard = new SignalGuard();
    const ticks = readStatLine("/proc", leader.pid!)!.startTicks;
    expect(guard.killGroup(new ProcScanner().scan(), leader.pid!, ticks + 1, "SIGSTOP")).toBe(false);
    const child = members().find((p) => p.comm === "sleep")!;
    expect(guard.killGroup(new ProcScanner().scan(), child.pid, child.startTicks, "SIGSTOP")).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(members().map((p) => p.state)).not.toContain("T");
  });

  it("signals the group of a leader that has just ended and is not yet reaped (its PID, so its group's id, is still its own)", async () => {
    // The leader's parent execs a program that never reaps: the leader stays a zombie once killed.
    const holder = spawn("bash", ["-c", "setsid bash -c 'sleep 30 & sleep 30 & wait' & exec sleep 30"], { stdio: "ignore", detached: true });
    children.push(holder);
    const scan = () => [...new ProcScanner().scan().processes.values()];
    let leader: ProcessSample | undefined;
    await waitFor(() => (leader = scan().find((p) => p.ppid === holder.pid && p.sid === p.pid)) !== undefined && scan().filter((p) => p.sid === leader!.pid).length === 3, 5000, () => "no session");
    try {
      process.kill(leader!.pid, "SIGKILL");
      await waitFor(() => readStatLine("/proc", leader!.pid)?.state === "Z", 5000, () => "the leader did not end");
      expect(new SignalGuard().killGroup(new ProcScanner().scan(), leader!.pid, leader!.startTicks, "SIGSTOP")).toBe(true);
      const orphans = () => scan().filter((p) => p.sid === leader!.pid && p.pid !== leader!.pid);
      await waitFor(() => orphans().every((p) => p.state === "T"), 5000, () => "the group was not stopped");
      expect(orphans()).toHaveLength(2);
    } finally {
      process.kill(-leader!.pid, "SIGKILL");
    }
  });

  it("refuses a group whose session holds another user's process, and signals none of it", async () => {
    const { leader, members } = await session("setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 30");
    const guard = new SignalGuard();
    const ticks = readStatLine("/proc", leader.pid!)!.startTicks;
    expect(() => guard.killGroup(new ProcScanner().scan(), leader.pid!, ticks, "SIGSTOP")).toThrow(/another user/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(members().map((p) => p.state)).not.toContain("T");
  });
});
