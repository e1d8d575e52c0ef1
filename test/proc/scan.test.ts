// ProcScanner against a crafted /proc tree: parsing edge cases, CPU deltas, caching.

import type { ProcessSample, ProcessSnapshot } from "../../daemon/proc/types.js";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProcScanner, type ProcScannerOptions } from "../../daemon/proc/scan.js";
import { FakeProcRoot } from "./helpers.js";

const BOOT_TIME_SECONDS = 1_700_000_000;
const CLOCK_TICKS = 100;
const PAGE_SIZE = 4096;

let fake: FakeProcRoot;
let monotonic: number;

// A scanner over the fake root with a controllable monotonic clock.
function scanner(options: ProcScannerOptions = {}): ProcScanner {
  return new ProcScanner({
    procRoot: fake.root,
    clockTicksPerSecond: CLOCK_TICKS,
    pageSizeBytes: PAGE_SIZE,
    monotonicMs: () => monotonic,
    nowMs: () => 1_700_000_500_000,
    ...options,
  });
}

beforeEach(() => {
  fake = new FakeProcRoot(BOOT_TIME_SECONDS);
  monotonic = 10_000;
});
afterEach(() => {
  vi.restoreAllMocks();
  fake.dispose();
});

describe("stat parsing", () => {
  it("reads every field of a plain process", () => {
    fake.write({
      pid: 4242, comm: "gedit", state: "R", ppid: 1717, pgrp: 4240, session: 1500,
      utime: 250, stime: 50, threads: 7, startTicks: 123_456, rssPages: 2500,
    });
    const snapshot = scanner().scan();
    expect(snapshot.timeMs).toBe(1_700_000_500_000);
    expect(snapshot.processes.get(4242)).toEqual({
      pid: 4242, ppid: 1717, uid: process.getuid!(), state: "R", comm: "gedit", pgid: 4240, sid: 1500, ttyNr: 0,
      startTicks: 123_456, startTimeMs: BOOT_TIME_SECONDS * 1000 + 1_234_560, cpuTicks: 300, cpuPercent: 0,
      rssBytes: 2500 * PAGE_SIZE, threads: 7, kernelThread: false,
    });
  });

  it("takes comm from the first '(' to the last ')', whatever it holds", () => {
    fake.write({ pid: 10, comm: "a (b) c", ppid: 3 });
    fake.write({ pid: 11, comm: "x) R 99 (y", ppid: 4, state: "T" });
    fake.write({ pid: 12, comm: "))((", ppid: 5 });
    fake.write({ pid: 13, comm: "", ppid: 6 });
    const { processes } = scanner().scan();
    expect(processes.get(10)).toMatchObject({ comm: "a (b) c", ppid: 3, state: "S" });
    expect(processes.get(11)).toMatchObject({ comm: "x) R 99 (y", ppid: 4, state: "T" });
    expect(processes.get(12)).toMatchObject({ comm: "))((", ppid: 5 });
    expect(processes.get(13)).toMatchObject({ comm: "", ppid: 6 });
  });

  it("keeps UTF-8 in comm", () => {
    fake.write({ pid: 20, comm: "éditeur ✓", ppid: 1 });
    expect(scanner().scan().processes.get(20)?.comm).toBe("éditeur ✓");
  });

  it("flags kernel threads by PF_KTHREAD, and only by it", () => {
    fake.write({ pid: 2, comm: "kthreadd", ppid: 0, flags: 0x208040 });
    fake.write({ pid: 30, comm: "kworker/0:1-events", ppid: 2, flags: 0x4208060 });
    fake.write({ pid: 31, comm: "odd kthread", ppid: 1, flags: 0x00200000 });
    fake.write({ pid: 32, comm: "bash", ppid: 1, flags: 0x400100 });
    // In a PID namespace PID 2 is an ordinary process, and so are its children.
    fake.write({ pid: 33, comm: "sleep", ppid: 2, flags: 0x400000 });
    const { processes } = scanner().scan();
    expect([2, 30, 31, 32, 33].map((pid) => processes.get(pid)?.kernelThread)).toEqual([true, true, true, false, false]);
  });

  it("skips entries that are not processes, vanished ones and malformed stat lines", () => {
    fake.write({ pid: 40, comm: "ok" });
    fs.mkdirSync(path.join(fake.root, "41")); // no stat: the process ended between readdir and open
    fs.mkdirSync(path.join(fake.root, "42"));
    fs.writeFileSync(path.join(fake.root, "42", "stat"), "42 no parentheses S 1\n");
    fs.mkdirSync(path.join(fake.root, "43"));
    fs.writeFileSync(path.join(fake.root, "43", "stat"), "43 (cut) S 1 4");
    fs.mkdirSync(path.join(fake.root, "self"));
    fs.mkdirSync(path.join(fake.root, "net"));
    expect([...scanner().scan().processes.keys()]).toEqual([40]);
  });

  it("indexes children by parent", () => {
    fake.write({ pid: 100, comm: "shell", ppid: 1 });
    fake.write({ pid: 101, comm: "child", ppid: 100 });
    fake.write({ pid: 102, comm: "child", ppid: 100 });
    fake.write({ pid: 103, comm: "grandchild", ppid: 101 });
    const snapshot = scanner().scan();
    expect([...snapshot.childrenOf(100)].sort()).toEqual([101, 102]);
    expect(snapshot.childrenOf(101)).toEqual([103]);
    expect(snapshot.childrenOf(103)).toEqual([]);
    expect(snapshot.childrenOf(999)).toEqual([]);
  });
});

describe("CPU percent", () => {
  it("is 0 on first sight, then ticks used over wall time elapsed", () => {
    const source = scanner();
    fake.write({ pid: 50, comm: "busy", utime: 100, stime: 20, startTicks: 500 });
    expect(source.scan().processes.get(50)?.cpuPercent).toBe(0);
    monotonic += 2000; // 2 s, 200 ticks available
    fake.write({ pid: 50, comm: "busy", utime: 200, stime: 70, startTicks: 500 }); // +150 ticks
    expect(source.scan().processes.get(50)?.cpuPercent).toBeCloseTo(75, 10);
    monotonic += 500;
    fake.write({ pid: 50, comm: "busy", utime: 300, stime: 70, startTicks: 500 }); // +100 ticks in 0.5 s
    expect(source.scan().processes.get(50)?.cpuPercent).toBeCloseTo(200, 10);
  });

  it("starts over when the pid is reused by a new process", () => {
    const source = scanner();
    fake.write({ pid: 51, comm: "old", utime: 100, startTicks: 500 });
    source.scan();
    monotonic += 1000;
    fake.write({ pid: 51, comm: "old", utime: 150, startTicks: 900 });
    expect(source.scan().processes.get(51)?.cpuPercent).toBe(0);
  });

  it("carries on across exec (same start time, new comm)", () => {
    const source = scanner();
    fake.write({ pid: 52, comm: "sh", utime: 10, startTicks: 700 });
    source.scan();
    monotonic += 1000;
    fake.write({ pid: 52, comm: "python3", utime: 40, startTicks: 700 });
    expect(source.scan().processes.get(52)).toMatchObject({ comm: "python3", cpuPercent: 30 });
  });
});

describe("caching", () => {
  it("stats /proc/<pid> for its owner once per process, not once per scan", () => {
    fake.write({ pid: 60, comm: "a" });
    fake.write({ pid: 61, comm: "b" });
    const source = scanner();
    const statSync = vi.spyOn(fs, "statSync");
    source.scan();
    expect(statSync).toHaveBeenCalledTimes(2);
    source.scan();
    source.scan();
    expect(statSync).toHaveBeenCalledTimes(2);
    fake.write({ pid: 61, comm: "b", startTicks: 5000 }); // pid reused
    source.scan();
    expect(statSync).toHaveBeenCalledTimes(3);
  });

  it("peek reads the PIDs it is given afresh, though it read them before", () => {
    fake.write({ pid: 60, comm: "a" });
    const source = scanner();
    source.scan();
    // A program's process read just after its keeper forked it, then exec'd into the program.
    fake.write({ pid: 70, comm: "selfheal-keeper" });
    expect(source.peek().processes.get(70)?.comm).toBe("selfheal-keeper");
    fake.write({ pid: 70, comm: "bash" });
    expect(source.peek().processes.get(70)?.comm).toBe("selfheal-keeper");
    expect(source.peek(new Set([70])).processes.get(70)?.comm).toBe("bash");
  });

  it('peek("new") reads every process new since the last scan afresh, and those the last scan saw as it saw them', () => {
    fake.write({ pid: 60, comm: "a", utime: 10 });
    const source = scanner();
    source.scan();
    // A copy first read between its fork and its setsid and exec: still its parent's session and name.
    fake.write({ pid: 70, comm: "bash", session: 60 });
    expect(source.peek().processes.get(70)).toMatchObject({ comm: "bash", sid: 60 });
    fake.write({ pid: 70, comm: "app", session: 70 });
    fake.write({ pid: 60, comm: "a", utime: 90 });
    const now = source.peek("new");
    expect(now.processes.get(70)).toMatchObject({ comm: "app", sid: 70 });
    expect(now.processes.get(60)?.comm).toBe("a");
    // What it read is carried over by the next plain peek.
    expect(source.peek().processes.get(70)?.comm).toBe("app");
  });

  it("peek({ newAnd }) reads afresh every process new since the last scan, the PIDs given and the processes of the sessions they lead, though read before; later peeks carry its reads over", () => {
    fake.write({ pid: 60, comm: "a", session: 60 });
    fake.write({ pid: 61, comm: "b", session: 60 });
    fake.write({ pid: 62, comm: "c", session: 62 });
    const source = scanner();
    source.scan();
    fake.write({ pid: 70, comm: "bash", session: 60 });
    expect(source.peek().processes.get(70)?.comm).toBe("bash");
    // Since their last reads: the new one exec'd, one the scan saw exec'd (a setuid program), and another too.
    fake.write({ pid: 70, comm: "app", session: 60 });
    fake.write({ pid: 61, comm: "passwd", session: 60 });
    fake.write({ pid: 62, comm: "d", session: 62 });
    // 60 leads its session: 61, in it, is read afresh though not given.
    const now = source.peek({ newAnd: new Set([60]) });
    expect(now.processes.get(70)?.comm).toBe("app");
    expect(now.processes.get(61)?.comm).toBe("passwd");
    expect(now.processes.get(62)?.comm).toBe("c");
    // A plain peek after it carries its reads over, not the last scan's.
    expect(source.peek().processes.get(61)?.comm).toBe("passwd");
  });

  it("a peek names the PIDs it read now (readNow): not those it carried over from the last scan or an earlier peek", () => {
    fake.write({ pid: 60, comm: "a" });
    const source = scanner();
    source.scan();
    fake.write({ pid: 70, comm: "b" });
    expect([...source.peek().readNow!]).toEqual([70]);
    fake.write({ pid: 71, comm: "c" });
    expect([...source.peek().readNow!]).toEqual([71]);
    expect([...source.peek({ newAnd: new Set([60]) }).readNow!].sort()).toEqual([60, 70, 71]);
    expect([...source.peek(new Set([60])).readNow!]).toEqual([60]);
  });

  it("peek reads a process new since the last scan once, not at every peek; the next scan reads it afresh", () => {
    fake.write({ pid: 60, comm: "a" });
    const source = scanner();
    source.scan();
    fake.write({ pid: 70, comm: "new", rssPages: 10 });
    const statSync = vi.spyOn(fs, "statSync");
    expect(source.peek().processes.get(70)?.rssBytes).toBe(10 * PAGE_SIZE);
    fake.write({ pid: 70, comm: "new", rssPages: 20 });
    fake.write({ pid: 71, comm: "newer" });
    const second = source.peek();
    expect(second.processes.get(70)?.rssBytes).toBe(10 * PAGE_SIZE);
    expect(second.processes.has(71)).toBe(true);
    expect(statSync).toHaveBeenCalledTimes(2);
    // Gone from /proc: gone from the peek too.
    fs.rmSync(path.join(fake.root, "71"), { recursive: true });
    expect(source.peek().processes.has(71)).toBe(false);
    expect(source.scan().processes.get(70)?.rssBytes).toBe(20 * PAGE_SIZE);
  });

  it("caches argv and exe per process and forgets them when the pid is reused", () => {
    fake.write({ pid: 70, comm: "app", cmdline: ["/usr/bin/app", "--flag", ""], exeTarget: "/usr/bin/app (deleted)" });
    const source = scanner();
    source.scan();
    expect(source.readCmdline(70)).toEqual(["/usr/bin/app", "--flag", ""]);
    expect(source.readExeName(70)).toBe("app");
    fake.write({ pid: 70, comm: "app", cmdline: ["changed"], exeTarget: "/usr/bin/changed" });
    source.scan();
    expect(source.readCmdline(70)).toEqual(["/usr/bin/app", "--flag", ""]);
    expect(source.readExeName(70)).toBe("app");
    fake.write({ pid: 70, comm: "app", startTicks: 9999 });
    source.scan();
    expect(source.readCmdline(70)).toEqual(["changed"]);
    expect(source.readExeName(70)).toBe("changed");
  });
});

describe("readCmdline and readExeName", () => {
  it("return null for missing processes, empty cmdlines and unreadable links", () => {
    fake.write({ pid: 80, comm: "kworker", cmdline: [] });
    const source = scanner();
    source.scan();
    expect(source.readCmdline(80)).toBeNull();
    expect(source.readExeName(80)).toBeNull();
    expect(source.readCmdline(12345)).toBeNull();
    expect(source.readExeName(12345)).toBeNull();
  });

  it("keep spaces inside arguments and strip only a trailing ' (deleted)'", () => {
    fake.write({ pid: 81, comm: "x", cmdline: ["/opt/my app/run", "a b", "(c)"], exeTarget: "/opt/my app/a (deleted) b" });
    const source = scanner();
    expect(source.readCmdline(81)).toEqual(["/opt/my app/run", "a b", "(c)"]);
    expect(source.readExeName(81)).toBe("a (deleted) b");
  });
});

describe("the rest of the table at a slower pace (restEveryScans)", () => {
  const EVERY = 5;
  const MB = 1024 * 1024;
  const pages = (mb: number): number => (mb * MB) / PAGE_SIZE;

  // A scanner that reads processes outside its focus every EVERY scans.
  function pacedScanner(): ProcScanner {
    return scanner({ restEveryScans: EVERY });
  }

  // A watched program (100) with a child, a grandchild and a member of its session that lost its parent;
  // and processes outside it: 200 with a child 201, and 300.
  function writeTable(mb: number): void {
    fake.write({ pid: 100, comm: "watched", ppid: 1, rssPages: pages(mb), startTicks: 100 });
    fake.write({ pid: 101, comm: "child", ppid: 100, session: 100, pgrp: 100, rssPages: pages(mb), startTicks: 110 });
    fake.write({ pid: 102, comm: "grandchild", ppid: 101, session: 102, pgrp: 102, rssPages: pages(mb), startTicks: 120 }); // its own session (setsid)
    fake.write({ pid: 103, comm: "orphan", ppid: 1, session: 100, pgrp: 103, rssPages: pages(mb), startTicks: 130 });
    fake.write({ pid: 150, comm: "adopted", ppid: 99, session: 99, pgrp: 99, rssPages: pages(mb), startTicks: 150 }); // leads nothing
    fake.write({ pid: 200, comm: "other", ppid: 1, rssPages: pages(mb), startTicks: 200 });
    fake.write({ pid: 201, comm: "otherchild", ppid: 200, rssPages: pages(mb), startTicks: 210 });
    fake.write({ pid: 300, comm: "third", ppid: 1, rssPages: pages(mb), startTicks: 300 });
  }

  const FOCUS = new Set([100, 150]);
  const rssMb = (snapshot: ProcessSnapshot, pid: number): number | undefined => {
    const bytes = snapshot.processes.get(pid)?.rssBytes;
    return bytes === undefined ? undefined : bytes / MB;
  };

  beforeEach(() => {
    writeTable(1);
    fake.setLastPid(400, 1000);
  });

  it("reads a process outside the focus every 5th scan and carries its last sample over in between", () => {
    const source = pacedScanner();
    expect(rssMb(source.scan(FOCUS), 300)).toBe(1);
    writeTable(2);
    for (let scan = 2; scan <= EVERY; scan++) {
      const snapshot = source.scan(FOCUS);
      expect(rssMb(snapshot, 300), `scan ${scan}`).toBe(1);
      expect(rssMb(snapshot, 201), `scan ${scan}`).toBe(1);
    }
    const sixth = source.scan(FOCUS);
    expect(rssMb(sixth, 300)).toBe(2);
    expect(rssMb(sixth, 201)).toBe(2);
  });

  it("reads the focus's tree every scan: its descendants and the members of the session its root leads", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    for (let mb = 2; mb <= 2 * EVERY; mb++) {
      writeTable(mb);
      const snapshot = source.scan(FOCUS);
      for (const pid of [100, 101, 102, 103, 150]) expect(rssMb(snapshot, pid), `PID ${pid} at ${mb}`).toBe(mb);
      expect([...snapshot.childrenOf(100)]).toEqual([101]);
    }
  });

  it("reads every scan a new child of the focus, and a process new since the last scan", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    source.scan(FOCUS);
    fake.write({ pid: 104, comm: "newchild", ppid: 102, rssPages: pages(3), startTicks: 140 });
    fake.write({ pid: 301, comm: "newcomer", ppid: 1, rssPages: pages(3), startTicks: 310 });
    const snapshot = source.scan(FOCUS);
    expect(rssMb(snapshot, 104)).toBe(3);
    expect(rssMb(snapshot, 301)).toBe(3);
    expect(snapshot.childrenOf(102)).toEqual([104]);
    fake.write({ pid: 104, comm: "newchild", ppid: 102, rssPages: pages(4), startTicks: 140 });
    expect(rssMb(source.scan(FOCUS), 104)).toBe(4);
  });

  it("reads a new process every scan for its first 5 (a fork that has not exec'd yet is not carried)", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    fake.write({ pid: 301, comm: "bash", ppid: 1, startTicks: 310 });
    expect(source.scan(FOCUS).processes.get(301)?.comm).toBe("bash");
    fake.write({ pid: 301, comm: "gedit", ppid: 1, startTicks: 310 });
    expect(source.scan(FOCUS).processes.get(301)?.comm).toBe("gedit");
  });

  it("sees at once the new parent of a process whose parent ended", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    source.scan(FOCUS);
    fake.remove(200);
    fake.write({ pid: 201, comm: "otherchild", ppid: 1, rssPages: pages(1), startTicks: 210 });
    const snapshot = source.scan(FOCUS);
    expect(snapshot.processes.has(200)).toBe(false);
    expect(snapshot.processes.get(201)?.ppid).toBe(1);
    expect(snapshot.childrenOf(1)).toContain(201);
    expect(snapshot.childrenOf(200)).toEqual([]);
  });

  it("reads again a listed PID the kernel may have handed out since the last scan (a reused PID), and its old children's new parent", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    source.scan(FOCUS);
    // 200 ended and its PID went to a new process: the cursor wrapped past it (400 → 32768 → 250).
    fake.write({ pid: 200, comm: "reused", ppid: 1, startTicks: 900 });
    fake.write({ pid: 201, comm: "otherchild", ppid: 1, rssPages: pages(1), startTicks: 210 });
    fake.setLastPid(250, 1100);
    const snapshot = source.scan(FOCUS);
    expect(snapshot.processes.get(200)).toMatchObject({ comm: "reused", startTicks: 900 });
    expect(snapshot.processes.get(201)?.ppid).toBe(1);
    expect(snapshot.childrenOf(200)).toEqual([]);
    // Out of the span handed out (250 → 260), a listed PID names the process it named.
    fake.write({ pid: 300, comm: "third", ppid: 1, rssPages: pages(5), startTicks: 300 });
    fake.setLastPid(260, 1110);
    expect(rssMb(source.scan(FOCUS), 300)).toBe(1);
  });

  it("reads again a listed PID within the span handed out since the last scan, without a wrap", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    source.scan(FOCUS);
    fake.write({ pid: 300, comm: "reused", ppid: 1, startTicks: 950 });
    fake.setLastPid(310, 1100);
    fake.setLastPid(410, 1100);
    const before = source.scan(FOCUS);
    expect(before.processes.get(300)?.comm).toBe("third");
    fake.setLastPid(30_000, 1200);
    fake.write({ pid: 300, comm: "reused", ppid: 1, startTicks: 950 });
    // 410 → 30000 holds no 300: still carried; a wrap to 301 does.
    expect(source.scan(FOCUS).processes.get(300)?.comm).toBe("third");
    fake.setLastPid(301, 1300);
    expect(source.scan(FOCUS).processes.get(300)?.comm).toBe("reused");
  });

  it("sees a process outside the focus turn zombie within 5 scans", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    fake.write({ pid: 300, comm: "third", ppid: 1, state: "Z", startTicks: 300 });
    const states = Array.from({ length: EVERY }, () => source.scan(FOCUS).processes.get(300)?.state);
    expect(states).toContain("Z");
  });

  it("gives a process read at the slow pace its CPU % over the time since its own last read", () => {
    const source = pacedScanner();
    fake.write({ pid: 300, comm: "third", ppid: 1, utime: 0, startTicks: 300 });
    source.scan(FOCUS);
    fake.write({ pid: 300, comm: "third", ppid: 1, utime: 250, startTicks: 300 }); // 2.5 s of CPU over 5 s
    let last: ProcessSample | undefined;
    for (let scan = 2; scan <= EVERY + 1; scan++) {
      monotonic += 1000;
      last = source.scan(FOCUS).processes.get(300);
    }
    expect(last?.cpuPercent).toBeCloseTo(50, 10);
  });

  it("reads every process every scan when the PID cursor cannot be trusted", () => {
    // No `self` naming this process: the table numbers PIDs otherwise (another PID namespace's /proc).
    fs.rmSync(path.join(fake.root, "self"));
    fs.symlinkSync("1", path.join(fake.root, "self"));
    const source = pacedScanner();
    source.scan(FOCUS);
    writeTable(2);
    expect(rssMb(source.scan(FOCUS), 300)).toBe(2);
    // No loadavg.
    const other = pacedScanner();
    fs.rmSync(path.join(fake.root, "loadavg"));
    other.scan(FOCUS);
    writeTable(3);
    expect(rssMb(other.scan(FOCUS), 300)).toBe(3);
  });

  it("reads every process when more forks than the PID cycle holds happened since the last scan", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    writeTable(2);
    fake.setLastPid(400, 1000 + 40_000);
    expect(rssMb(source.scan(FOCUS), 300)).toBe(2);
  });

  it("reads every process on a scan without a focus (containment, cleanup, a new policy's look)", () => {
    const source = pacedScanner();
    source.scan(FOCUS);
    writeTable(2);
    expect(rssMb(source.scan(), 300)).toBe(2);
  });

  it("reads every process every scan by default", () => {
    const source = scanner();
    source.scan(FOCUS);
    writeTable(2);
    expect(rssMb(source.scan(FOCUS), 300)).toBe(2);
  });
});
