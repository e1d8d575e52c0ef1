// ProcScanner against the real /proc, with real child processes.

import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProcScanner } from "../../daemon/proc/scan.js";
import { Children, scanUntil, sleepCopy, waitForOutput } from "./helpers.js";

const MB = 1024 * 1024;
/** btime has whole-second resolution and start times have clock-tick resolution. */
const START_TIME_SLACK_MS = 1500;

/** Raise a node -e program to nice -20, and its autogroup too, where allowed (see test/fixtures/cpu.mjs --top-priority). */
const TOP_PRIORITY_SOURCE =
  "try { require('node:os').setPriority(-20); require('node:fs').writeFileSync('/proc/self/autogroup', '-20') } catch (error) { console.error('cannot raise the priority:', error.message) }";

const children = new Children();
afterEach(() => children.killAll());

describe("ProcScanner on the real /proc", () => {
  it("sees a sleeping child with its parent, owner, group, session and start time", async () => {
    const before = Date.now();
    const child = children.spawn("sleep", ["30"], { detached: true });
    const scanner = new ProcScanner();
    // Once it has exec'd sleep and gone to sleep: just after the exec it may still be running (R), as a
    // whole-suite run on a loaded machine once saw. A scanner that misread the state never sees S.
    const { sample, snapshot } = await scanUntil(scanner, child.pid, (s) => s.comm === "sleep" && s.state === "S");
    expect(sample).toMatchObject({
      pid: child.pid, ppid: process.pid, uid: process.getuid!(), state: "S", comm: "sleep",
      pgid: child.pid, sid: child.pid, threads: 1, kernelThread: false,
    });
    expect(sample.startTimeMs).toBeGreaterThan(before - START_TIME_SLACK_MS);
    expect(sample.startTimeMs).toBeLessThan(Date.now() + START_TIME_SLACK_MS);
    expect(sample.rssBytes).toBeGreaterThan(0);
    expect(snapshot.childrenOf(process.pid)).toContain(child.pid);
    expect(scanner.readCmdline(child.pid)).toEqual(["sleep", "30"]);
    expect(scanner.readExeName(child.pid)).toBe("sleep");
  });

  it("sees this test process itself, with its threads and the comm its title set", () => {
    const self = new ProcScanner().scan().processes.get(process.pid);
    // Setting process.title renames comm, truncated to 15 characters (vitest names its workers "node (vitest N)").
    const comm = process.title.slice(0, 15);
    expect(self).toMatchObject({ pid: process.pid, ppid: process.ppid, comm, state: "R", uid: process.getuid!() });
    expect(self!.threads).toBeGreaterThan(1);
  });

  it.skipIf(process.getuid?.() !== 0)("gives a process's effective uid as its owner (what /proc/<pid> is owned by)", async () => {
    // Real uid root, effective uid nobody: the effective one is what the guard and adoption judge.
    const child = children.spawn("setpriv", ["--euid=65534", "sleep", "30"]);
    const { sample } = await scanUntil(new ProcScanner(), child.pid, (s) => s.comm === "sleep");
    expect(sample.uid).toBe(65534);
  });

  it("flags kthreadd's children as kernel threads when the kernel shows them", () => {
    const snapshot = new ProcScanner().scan();
    const kthreadd = snapshot.processes.get(2);
    if (kthreadd?.comm !== "kthreadd") return; // a PID namespace hides kernel threads
    expect(kthreadd.kernelThread).toBe(true);
    for (const pid of snapshot.childrenOf(2)) expect(snapshot.processes.get(pid)?.kernelThread).toBe(true);
  });

  it("parses a comm with spaces and parentheses", async () => {
    const exe = sleepCopy("a (b) c)");
    const child = children.spawn(exe, ["30"]);
    const scanner = new ProcScanner();
    const { sample } = await scanUntil(scanner, child.pid, (s) => s.comm !== "node");
    expect(sample).toMatchObject({ comm: "a (b) c)", ppid: process.pid, uid: process.getuid!() });
    // Sleeping, or still running its start-up on a loaded machine.
    expect(["S", "R"]).toContain(sample.state);
    expect(scanner.readCmdline(child.pid)).toEqual([exe, "30"]);
    expect(scanner.readExeName(child.pid)).toBe("a (b) c)");
  });

  it("measures a busy child at more than half a core", async () => {
    // In a session of its own, at nice -20 for itself and its session's scheduling group
    // (autogroup): a whole core however loaded the machine is (tests run as root). At the
    // default priority, on a machine loaded past its cores, it got 6 to 20 % of a core.
    const child = children.spawn(
      process.execPath,
      [
        "-e",
        `${TOP_PRIORITY_SOURCE}; console.log('burning'); const end = Date.now() + 4000; while (Date.now() < end) {}`,
      ],
      { detached: true },
    );
    await waitForOutput(child, "burning");
    const scanner = new ProcScanner();
    const first = scanner.scan().processes.get(child.pid)!;
    expect(first.cpuPercent).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const second = scanner.scan().processes.get(child.pid)!;
    expect(second.cpuTicks).toBeGreaterThan(first.cpuTicks);
    expect(second.cpuPercent).toBeGreaterThan(50);
    expect(second.cpuPercent).toBeLessThan(110);
  });

  it("sees resident memory grow when a child allocates 50 MB", async () => {
    const child = children.spawn(process.execPath, [
      "-e",
      "console.log('small'); process.stdin.once('data', () => { globalThis.kept = Buffer.alloc(50 * 1024 * 1024, 1); console.log('big'); }); setInterval(() => {}, 1000);",
    ]);
    await waitForOutput(child, "small");
    const scanner = new ProcScanner();
    const small = scanner.scan().processes.get(child.pid)!;
    const grown = waitForOutput(child, "big");
    child.stdin!.write("go\n");
    await grown;
    const big = scanner.scan().processes.get(child.pid)!;
    expect(big.rssBytes - small.rssBytes).toBeGreaterThan(45 * MB);
    expect(big.rssBytes - small.rssBytes).toBeLessThan(80 * MB);
  });

  it("sees a zombie in state Z under the parent that does not reap it", async () => {
    // sh starts a short sleep, then becomes a long sleep that never waits for it.
    const parent = children.spawn("sh", ["-c", "sleep 0.1 & exec sleep 30"]);
    const scanner = new ProcScanner();
    const { snapshot } = await scanUntil(scanner, parent.pid, (s, snap) =>
      snap.childrenOf(s.pid).some((pid) => snap.processes.get(pid)?.state === "Z"),
    );
    const [zombiePid] = snapshot.childrenOf(parent.pid);
    expect(snapshot.processes.get(zombiePid!)).toMatchObject({ comm: "sleep", state: "Z", ppid: parent.pid, rssBytes: 0 });
    expect(scanner.readCmdline(zombiePid!)).toBeNull();
  });

  it("does not list a process after it ended", async () => {
    const child = children.spawn("sleep", ["30"]);
    const scanner = new ProcScanner();
    await scanUntil(scanner, child.pid, (s) => s.comm === "sleep");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(scanner.scan().processes.has(child.pid)).toBe(false);
    expect(scanner.readCmdline(child.pid)).toBeNull();
    expect(scanner.readExeName(child.pid)).toBeNull();
  });

  // Only a scanner that lives (the daemon's) holds files: a scanner made for one look, as tests and tools
  // make them, would leave every process's stat file open (a wait that polls ran out of file descriptors).
  it("holds no file after a scan unless asked to", () => {
    const open = (): number => fs.readdirSync("/proc/self/fd").length;
    const before = open();
    for (let i = 0; i < 5; i++) new ProcScanner().scan();
    expect(open()).toBeLessThanOrEqual(before + 2);
  });

  it("holds each stat file open between scans: a process that exec'd is read afresh, one that ended is let go", async () => {
    // The stat files this test process holds open for a pid.
    const heldFor = (pid: number): number =>
      fs.readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/stat`;
        } catch {
          return false;
        }
      }).length;
    const child = children.spawn("sh", ["-c", "read -r line; exec sleep 30"], { stdio: ["pipe", "ignore", "ignore"] });
    const scanner = new ProcScanner({ holdStatFiles: true });
    await scanUntil(scanner, child.pid, (s) => s.comm === "sh");
    expect(heldFor(child.pid)).toBe(1);
    // Same process, new program: the held file shows it (the kernel writes the text at each read).
    child.stdin!.write("go\n");
    const { sample } = await scanUntil(scanner, child.pid, (s) => s.comm === "sleep");
    expect(sample.pid).toBe(child.pid);
    expect(heldFor(child.pid)).toBe(1);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(scanner.scan().processes.has(child.pid)).toBe(false);
    expect(heldFor(child.pid)).toBe(0);
    // A scanner not asked to hold holds nothing; close() lets go of every file.
    const other = children.spawn("sleep", ["30"]);
    await scanUntil(scanner, other.pid, (s) => s.comm === "sleep");
    expect(heldFor(other.pid)).toBe(1);
    scanner.close();
    expect(heldFor(other.pid)).toBe(0);
    await scanUntil(new ProcScanner(), other.pid, (s) => s.comm === "sleep");
    expect(heldFor(other.pid)).toBe(0);
  });

  it("reports the executable without ' (deleted)' once the file is removed", async () => {
    const exe = sleepCopy("soon-deleted");
    const child = children.spawn(exe, ["30"]);
    const scanner = new ProcScanner();
    await scanUntil(scanner, child.pid, (s) => s.comm === "soon-deleted");
    fs.rmSync(path.dirname(exe), { recursive: true });
    expect(fs.readlinkSync(`/proc/${child.pid}/exe`)).toMatch(/ \(deleted\)$/);
    expect(scanner.readExeName(child.pid)).toBe("soon-deleted");
  });
});

describe("ProcScanner on the real /proc, the rest of the table at a slower pace", () => {
  const EVERY = 5;
  const realPpid = (pid: number): number => Number(fs.readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]!.split(" ")[1]);

  it("sees at once the new parent of an unwatched process whose parent ended, and a watched child's memory every scan", async () => {
    // sh starts a long sleep in the background, prints its PID and waits to be told to end.
    const parent = children.spawn("sh", ["-c", "sleep 30 & echo $!; read -r line"], { stdio: ["pipe", "pipe", "ignore"] });
    const orphanPid = await new Promise<number>((resolve) => parent.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    const grower = children.spawn(process.execPath, ["-e", "const a = []; process.stdin.on('data', () => { a.push(Buffer.alloc(20 * 1024 * 1024, 1)); console.log('grown') })"]);
    const scanner = new ProcScanner({ restEveryScans: EVERY });
    const focus = new Set([grower.pid]);
    try {
      // Past the orphan's first scans (a young process is read every scan).
      for (let i = 0; i <= EVERY; i++) expect(scanner.scan(focus).processes.get(orphanPid)?.ppid).toBe(parent.pid);
      const before = scanner.scan(focus).processes.get(grower.pid)!.rssBytes;
      const grown = waitForOutput(grower, "grown");
      grower.stdin!.write("grow\n");
      await grown;
      expect(scanner.scan(focus).processes.get(grower.pid)!.rssBytes).toBeGreaterThan(before + 15 * MB);
      const ended = new Promise((resolve) => parent.once("exit", resolve));
      parent.stdin!.write("end\n");
      await ended;
      const snapshot = scanner.scan(focus);
      expect(snapshot.processes.has(parent.pid)).toBe(false);
      expect(snapshot.processes.get(orphanPid)?.ppid).toBe(realPpid(orphanPid));
      expect(snapshot.processes.get(orphanPid)?.ppid).not.toBe(parent.pid);
    } finally {
      try {
        process.kill(orphanPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
});
