// The sentinel itself (dist/selfheal-sentinel, built by npm run build), run on
// real processes: what it tells of a burst of forks, of a watched process
// killed, of a process that allocates past its mark; the lines it cannot use;
// its end when stdin closes. Only the processes these tests start are signalled.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { killQuietly, waitFor } from "../helpers/daemon.js";

const SENTINEL = resolve(import.meta.dirname, "../../dist/selfheal-sentinel");
const JUMP = resolve(import.meta.dirname, "../engine/fixtures/jump.mjs");
/** What a test waits for a line at most; a loaded machine gets room (the sentinel looks every 100 ms). */
const WAIT_MS = 20_000;
const MIB = 1024 * 1024;

const started: number[] = [];
const sentinels: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(SENTINEL)) throw new Error(`${SENTINEL} is missing: npm run build compiles it (it needs a C compiler)`);
});

afterEach(() => {
  killQuietly(started.splice(0));
  for (const sentinel of sentinels.splice(0)) sentinel.stdin?.end();
});

interface Run {
  child: ChildProcess;
  /** Every whole line of stdout so far. */
  lines(): string[];
  stderr(): string;
  send(...lines: string[]): void;
  /** Waits for a line that `match` accepts, and returns it. */
  line(match: (line: string) => boolean, what: string): Promise<string>;
  /** Resolves once the sentinel has looked after everything sent before: what it would tell by then is told. */
  sync(): Promise<void>;
  exited: Promise<number | null>;
}

let syncs = 0;

// The sentinel, or with `prefix` (a command that runs it, e.g. prlimit).
function runSentinel(args: string[] = [], prefix: string[] = []): Run {
  const child = prefix.length === 0 ? spawn(SENTINEL, args, { stdio: ["pipe", "pipe", "pipe"] }) : spawn(prefix[0]!, [...prefix.slice(1), SENTINEL, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  sentinels.push(child);
  let out = "";
  let err = "";
  child.stdout!.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const lines = (): string[] => out.split("\n").slice(0, -1);
  const run: Run = {
    child,
    lines,
    stderr: () => err,
    send: (...sent) => child.stdin!.write(sent.map((line) => `${line}\n`).join("")),
    async line(match, what) {
      await waitFor(() => lines().some(match), WAIT_MS, () => `no ${what}; stdout: ${JSON.stringify(out)}, stderr: ${JSON.stringify(err)}`);
      return lines().find(match)!;
    },
    async sync() {
      const token = `t${++syncs}`;
      run.send(`sync ${token}`);
      await run.line((line) => line === `synced ${token}`, `answer to sync ${token}`);
    },
    exited,
  };
  return run;
}

function startTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
}

function sleeper(): number {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  started.push(child.pid!);
  return child.pid!;
}

describe("the sentinel", () => {
  it("says it is ready and how it watches ends, and ends when its stdin closes", async () => {
    const run = runSentinel();
    expect(await run.line((line) => line.startsWith("ready "), "ready line")).toBe("ready pidfd");
    run.child.stdin!.end();
    expect(await run.exited).toBe(0);
  });

  it("ends when its stdin closes even while it looks every 100 ms", async () => {
    const run = runSentinel();
    run.send("forks 1000000", `memory 1 ${MIB} near ${process.pid}`);
    await run.sync();
    run.child.stdin!.end();
    expect(await run.exited).toBe(0);
  });

  it("tells a burst of forks past its mark, with the count", async () => {
    const run = runSentinel();
    const mark = 200;
    run.send(`forks ${mark}`);
    await run.sync();
    // 300 short-lived processes at once, from one shell.
    const burst = spawn("bash", ["-c", "for i in $(seq 300); do /bin/true & done; wait"], { stdio: "ignore" });
    await new Promise((done) => burst.once("exit", done));
    const told = await run.line((line) => line.startsWith("forks "), "forks line");
    expect(Number(told.split(" ")[1])).toBeGreaterThanOrEqual(mark);
  });

  it("tells the end of a watched process at once (pidfd), and watches it no more", async () => {
    const run = runSentinel();
    const pid = sleeper();
    const other = sleeper();
    run.send(`watch ${pid} ${startTicks(pid)}`, `watch ${other} ${startTicks(other)}`);
    await run.sync();
    expect(run.lines().some((line) => line.startsWith("ended"))).toBe(false);
    process.kill(pid, "SIGKILL");
    await run.line((line) => line === `ended ${pid}`, `ended ${pid}`);
    // The other one, still running, is not told; one unwatched is not told when it ends.
    run.send(`unwatch ${other}`);
    await run.sync();
    process.kill(other, "SIGKILL");
    await run.sync();
    await run.sync();
    expect(run.lines().filter((line) => line.startsWith("ended"))).toEqual([`ended ${pid}`]);
  });

  it("with --signal-probe (kernels without pidfd_open), tells the end at its next look", async () => {
    const run = runSentinel(["--signal-probe"]);
    expect(await run.line((line) => line.startsWith("ready "), "ready line")).toBe("ready signal");
    const pid = sleeper();
    run.send(`watch ${pid} ${startTicks(pid)}`);
    await run.sync();
    // The test is its parent: reaped at once by Node.js, so no process has the PID any more.
    process.kill(pid, "SIGKILL");
    await run.line((line) => line === `ended ${pid}`, `ended ${pid}`);
  });

  it("tells at once that a PID is not the process it was asked to watch (ended, or another one now)", async () => {
    const run = runSentinel();
    const pid = sleeper();
    run.send(`watch ${pid} ${startTicks(pid) + 1}`);
    await run.line((line) => line === `ended ${pid}`, "ended for a wrong start time");
    // A PID that no process has.
    run.send("watch 2147483647 1");
    await run.line((line) => line === "ended 2147483647", "ended for a PID nobody has");
    expect(run.stderr()).toBe("");
  });

  it("tells a near group that rises past its mark, once, with its resident bytes", async () => {
    const run = runSentinel();
    const jumper = spawn(process.execPath, [JUMP, "0.5", "100", "60"], { stdio: "ignore" });
    started.push(jumper.pid!);
    const mark = 80 * MIB;
    run.send(`memory g1 ${mark} near ${jumper.pid}`);
    const over = await run.line((line) => line.startsWith("over g1 "), "over line");
    expect(Number(over.split(" ")[2])).toBeGreaterThan(mark);
    await run.sync();
    await run.sync();
    expect(run.lines().filter((line) => line.startsWith("over"))).toHaveLength(1);
  });

  it("reads a far group only after a sharp drop of available memory", async () => {
    const run = runSentinel();
    // Already over its mark: a far group read at every look would be told at once.
    const big = spawn(process.execPath, [JUMP, "0", "100", "60"], { stdio: "ignore" });
    started.push(big.pid!);
    await waitFor(() => rssBytes(big.pid!) > 90 * MIB, WAIT_MS, () => "the first program did not allocate");
    run.send(`memory far1 ${50 * MIB} far ${big.pid}`);
    await run.sync();
    await run.sync();
    expect(run.lines().some((line) => line.startsWith("over"))).toBe(false);
    // Now watch drops of 20 MiB and more within a look: another program takes 500 MiB in one step (in 100 to 500 ms).
    run.send(`drop ${20 * MIB}`);
    await run.sync();
    const jumper = spawn(process.execPath, [JUMP, "0", "500", "60"], { stdio: "ignore" });
    started.push(jumper.pid!);
    const over = await run.line((line) => line.startsWith("over far1 "), "over line after the drop");
    expect(Number(over.split(" ")[2])).toBeGreaterThan(50 * MIB);
  });

  it("keeps a group's told state when the daemon sends it again, and forgets a group when asked", async () => {
    const run = runSentinel();
    run.send(`memory self 1 near ${process.pid}`);
    await run.line((line) => line.startsWith("over self "), "over line");
    run.send(`memory self 1 near ${process.pid}`);
    await run.sync();
    await run.sync();
    expect(run.lines().filter((line) => line.startsWith("over"))).toHaveLength(1);
    // A new mark is judged afresh.
    run.send(`memory self 2 near ${process.pid}`);
    await run.line((line) => line.startsWith("over self ") && run.lines().filter((l) => l.startsWith("over")).length === 2, "second over line");
    run.send("forget self", `memory other ${1024 ** 4} near ${process.pid}`);
    await run.sync();
    expect(run.lines().filter((line) => line.startsWith("over"))).toHaveLength(2);
  });

  it("sums a group larger than the files it may hold open: every PID counted, under a limit of 256 open files", async () => {
    const run = runSentinel([], ["prlimit", "--nofile=256:256"]);
    const pid = sleeper();
    await waitFor(() => readFileSync(`/proc/${pid}/comm`, "latin1").trim() === "sleep", WAIT_MS, () => "sleep did not start");
    const pids = Array.from({ length: 600 }, () => pid);
    run.send(`memory big 1 near ${pids.join(" ")}`);
    const over = await run.line((line) => line.startsWith("over big "), "over line");
    // Each PID's resident memory counted: 600 times sleep's (within a page or two of it, as it settles).
    expect(Number(over.split(" ")[2]) / (600 * rssBytes(pid))).toBeCloseTo(1, 2);
    expect(run.stderr()).toBe("");
  });

  it("names each line it cannot use on stderr, skips it, and goes on", async () => {
    const run = runSentinel();
    await run.line((line) => line.startsWith("ready"), "ready line");
    run.send("hello", "forks", "forks -1", "forks 12x", "watch 0 5", "watch 12", "memory k 100 middle 5", "memory k abc near 5", "memory k 100 near", "memory k 100 near 0", "sync");
    // One line in two writes, apart: still one line.
    run.child.stdin!.write("sync split");
    await new Promise((done) => setTimeout(done, 50));
    run.child.stdin!.write("1\n");
    await run.line((line) => line === "synced split1", "answer to a line written in two pieces");
    // A line longer than 64 KiB is skipped whole; the next one is read.
    run.send(`memory k 100 near ${"1 ".repeat(40_000)}1`);
    await run.sync();
    const stderr = run.stderr();
    const complaints = stderr.split("\n").filter((line) => line !== "");
    expect(complaints).toEqual([
      'selfheal-sentinel: line 1: unknown command: "hello"',
      'selfheal-sentinel: line 2: forks needs one number: "forks"',
      'selfheal-sentinel: line 3: forks needs one number: "forks -1"',
      'selfheal-sentinel: line 4: forks needs one number: "forks 12x"',
      'selfheal-sentinel: line 5: watch needs PID START: "watch 0 5"',
      'selfheal-sentinel: line 6: watch needs PID START: "watch 12"',
      'selfheal-sentinel: line 7: the mode must be near or far: "memory k 100 middle 5"',
      'selfheal-sentinel: line 8: MARK must be a number of bytes: "memory k abc near 5"',
      'selfheal-sentinel: line 9: memory needs at least one PID: "memory k 100 near"',
      'selfheal-sentinel: line 10: a PID must be a positive number: "memory k 100 near 0"',
      'selfheal-sentinel: line 11: sync needs one short TOKEN: "sync"',
      expect.stringMatching(/^selfheal-sentinel: line 13: longer than 64 KiB, skipped: "memory k 100 near 1 1 1 /),
    ]);
    // None of them set anything: no group was made of the bad lines.
    expect(run.lines().filter((line) => line.startsWith("over"))).toEqual([]);
  });

  it("never signals a process: its only kill() sends signal 0", () => {
    // The code without its comments (which speak of kill() too).
    const source = readFileSync(resolve(import.meta.dirname, "../../daemon/sentinel/sentinel.c"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    const calls = source.match(/\b(kill|killpg|tgkill|pidfd_send_signal|sigqueue|raise)\s*\([^)]*\)/g) ?? [];
    expect(calls).toEqual(["kill(watches[i].pid, 0)"]);
  });
});

function rssBytes(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, "latin1").split(" ")[1]) * 4096;
  } catch {
    return 0;
  }
}
