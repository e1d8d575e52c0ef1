// Policy matching: synthetic processes with a counting fake source, and real renamed executables.

import type { ProcessSample, ProcessSnapshot, ProcessSource } from "../../daemon/proc/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { compileMatch, findMatching, matchesProcess } from "../../daemon/proc/match.js";
import { ProcScanner } from "../../daemon/proc/scan.js";
import { Children, sample, scanUntil, sleepCopy, snapshotOf } from "./helpers.js";
import { FAKE_SELF_PID } from "../helpers/fakes.js";

/** A source whose argv and exe come from tables, counting every read. */
class FakeSource implements ProcessSource {
  readonly selfPid = FAKE_SELF_PID;
  reads = 0;
  constructor(
    private readonly snapshot: ProcessSnapshot,
    private readonly argv: Record<number, string[]> = {},
    private readonly exe: Record<number, string> = {},
  ) {}
  scan(): ProcessSnapshot {
    return this.snapshot;
  }
  readCmdline(pid: number): string[] | null {
    this.reads++;
    return this.argv[pid] ?? null;
  }
  readExeName(pid: number): string | null {
    this.reads++;
    return this.exe[pid] ?? null;
  }
}

// A fake source over the given samples.
function sourceOf(samples: ProcessSample[], argv: Record<number, string[]> = {}, exe: Record<number, string> = {}): FakeSource {
  return new FakeSource(snapshotOf(samples), argv, exe);
}

const children = new Children();
afterEach(() => children.killAll());

describe("compileMatch", () => {
  it("tells names from /regex/flags", () => {
    expect(compileMatch("gedit")).toEqual({ kind: "name", text: "gedit" });
    const compiled = compileMatch("/^python3 .*\\.py$/i");
    expect(compiled.kind).toBe("regex");
    expect(compiled.kind === "regex" && compiled.regex.flags).toBe("i");
    expect(compileMatch("/x").kind).toBe("name");
  });

  it("throws a clear error for an invalid regex or an empty match", () => {
    expect(() => compileMatch("/foo(/")).toThrow(/^Process match "\/foo\(\/" is not a valid regular expression \(Unterminated group\)/);
    expect(() => compileMatch("/foo/q")).toThrow(/not a valid regular expression \(Invalid flags/);
    expect(() => compileMatch("//")).toThrow(/empty \/regex\//);
    expect(() => compileMatch("")).toThrow(/must be a program name like "gedit" or a \/regex\/, got "" \(string\)/);
  });

  it("drops the g and y flags so repeated tests give the same answer", () => {
    const source = sourceOf([sample({ pid: 5 })], { 5: ["server", "--port", "80"] });
    const proc = source.scan().processes.get(5)!;
    const results = [1, 2, 3].map(() => matchesProcess("/port/gy", proc, source));
    expect(results).toEqual([true, true, true]);
  });
});

describe("bounded cost for any pattern", () => {
  // A backtracking engine takes about 2^n steps for /(a+)+$/ on n a's and a mismatch at the
  // end: 60 a's would run for centuries. A linear-time engine answers at once; nothing is timed here.
  it("a pattern with catastrophic backtracking answers on long command lines", () => {
    const long = ["/usr/bin/x", "a".repeat(60) + "!"];
    const huge = ["/usr/bin/x", "a".repeat(128 * 1024) + "!"];
    const source = sourceOf([sample({ pid: 1 }), sample({ pid: 2 })], { 1: long, 2: huge });
    expect(findMatching("/(a+)+$/", source.scan(), source)).toEqual([]);
    expect(findMatching("/(x+x+)+y/", source.scan(), source)).toEqual([]);
    expect(findMatching("/(a|aa)+!$/", source.scan(), source).map((s) => s.pid)).toEqual([1, 2]);
  });

  it("keeps the flags people use: i, m, s (g and y are dropped)", () => {
    const source = sourceOf([sample({ pid: 1 }), sample({ pid: 2 })], { 1: ["Python3", "Server.py"], 2: ["ruby", "server.rb"] });
    expect(findMatching("/^python3 .*server\\.py$/i", source.scan(), source).map((s) => s.pid)).toEqual([1]);
    expect(findMatching("/\\u0050ython/", source.scan(), source).map((s) => s.pid)).toEqual([1]);
    expect(compileMatch("/a.b/ims").kind).toBe("regex");
  });

  it("refuses what cannot be matched in linear time, saying why", () => {
    expect(() => compileMatch("/(a)\\1/")).toThrow(/backreference.*cannot be matched in linear time/);
    expect(() => compileMatch("/(?<x>a)\\k<x>/")).toThrow(/backreference/);
    expect(() => compileMatch("/foo(?=bar)/")).toThrow(/lookahead or lookbehind.*cannot be matched in linear time/);
    expect(() => compileMatch("/(?<!x)foo/")).toThrow(/lookahead or lookbehind/);
    // Linear, but with a program so large that each character would cost thousands of steps.
    expect(() => compileMatch("/(?:ab{1,30}){30}/")).toThrow(/compiles to \d+ steps per character \(at most 1000\)/);
    expect(() => compileMatch("/[\\s\\S]{5000}/")).toThrow(/cannot be matched in linear time \(invalid repeat count/);
    expect(() => compileMatch(`/${"x".repeat(1025)}/`)).toThrow(/of 1025 characters; at most 1024/);
  });

  it.each(["/.*/", "/^/", "/(?:)/", "/.?/", "/[\\s\\S]*/", "/$/", "/x*/", "/./", "/[^]/", "/^|foo/", "/(?=)/"])(
    "refuses %s, which would match every command line",
    (match) => {
      expect(() => compileMatch(match)).toThrow(/would match every command line|cannot be matched in linear time/);
    },
  );

  it("accepts narrow patterns that happen to be short", () => {
    for (const match of ["/a/", "/^x$/", "/\\d/", "/[a-z]/", "/foo|bar/"]) expect(compileMatch(match).kind).toBe("regex");
  });
});

describe("matchesProcess on synthetic processes", () => {
  it("matches comm exactly without reading argv or exe", () => {
    const source = sourceOf([sample({ pid: 1, comm: "gedit" })]);
    expect(matchesProcess("gedit", source.scan().processes.get(1)!, source)).toBe(true);
    expect(source.reads).toBe(0);
  });

  it("matches a long name through its truncated comm plus exe or argv[0]", () => {
    const name = "gnome-text-editor";
    const byExe = sample({ pid: 1, comm: name.slice(0, 15) });
    const byArgv0 = sample({ pid: 2, comm: name.slice(0, 15) });
    const other = sample({ pid: 3, comm: name.slice(0, 15) }); // same comm, a different longer program
    const source = sourceOf(
      [byExe, byArgv0, other],
      { 2: [`/usr/bin/${name}`, "--new-window"], 3: ["/usr/bin/gnome-text-editor-2"] },
      { 1: name, 3: "gnome-text-editor-2" },
    );
    expect(findMatching(name, source.scan(), source).map((s) => s.pid)).toEqual([1, 2]);
    expect(matchesProcess("gnome-text-editor-2", other, source)).toBe(true);
  });

  it("matches a renamed process by its executable or argv[0]", () => {
    const source = sourceOf(
      [sample({ pid: 1, comm: "Web Content" }), sample({ pid: 2, comm: "renamed" }), sample({ pid: 3, comm: "bash" })],
      { 2: ["/opt/app/firefox", "-contentproc"], 3: ["-bash"] },
      { 1: "firefox" },
    );
    expect(findMatching("firefox", source.scan(), source).map((s) => s.pid)).toEqual([1, 2]);
    expect(findMatching("-bash", source.scan(), source).map((s) => s.pid)).toEqual([3]);
  });

  it("never matches zombies or kernel threads, not even by regex", () => {
    const zombie = sample({ pid: 1, comm: "gedit", state: "Z" });
    const kthread = sample({ pid: 2, comm: "gedit", kernelThread: true });
    const source = sourceOf([zombie, kthread], { 1: ["gedit"], 2: ["gedit"] }, { 1: "gedit", 2: "gedit" });
    expect(matchesProcess("gedit", zombie, source)).toBe(false);
    expect(matchesProcess("gedit", kthread, source)).toBe(false);
    expect(findMatching("/gedit/", source.scan(), source)).toEqual([]);
    expect(source.reads).toBe(0);
  });

  it("tests a regex against argv joined with spaces", () => {
    const source = sourceOf([sample({ pid: 1, comm: "python3" }), sample({ pid: 2, comm: "python3" }), sample({ pid: 3 })], {
      1: ["python3", "-m", "http.server", "8000"],
      2: ["python3", "other.py"],
    });
    expect(findMatching("/-m http\\.server \\d+$/", source.scan(), source).map((s) => s.pid)).toEqual([1]);
    expect(findMatching("/^PYTHON3/i", source.scan(), source).map((s) => s.pid)).toEqual([1, 2]);
  });

  it("returns the oldest first and filters by owner", () => {
    const source = sourceOf([
      sample({ pid: 50, comm: "app", startTicks: 3000, uid: 1000 }),
      sample({ pid: 40, comm: "app", startTicks: 1000, uid: 1000 }),
      sample({ pid: 45, comm: "app", startTicks: 1000, uid: 1000 }),
      sample({ pid: 30, comm: "app", startTicks: 2000, uid: 0 }),
    ]);
    expect(findMatching("app", source.scan(), source).map((s) => s.pid)).toEqual([40, 45, 30, 50]);
    expect(findMatching("app", source.scan(), source, { uid: 1000 }).map((s) => s.pid)).toEqual([40, 45, 50]);
    expect(findMatching("app", source.scan(), source, { uid: 4242 })).toEqual([]);
  });
});

describe("matching real processes", () => {
  it("finds a program with a 20+ character name by its full name, not by a prefix", async () => {
    const name = "gnome-text-editor-like-name";
    const child = children.spawn(sleepCopy(name), ["30"]);
    const scanner = new ProcScanner();
    const { snapshot } = await scanUntil(scanner, child.pid, (s) => s.comm === name.slice(0, 15));
    expect(findMatching(name, snapshot, scanner).map((s) => s.pid)).toEqual([child.pid]);
    expect(findMatching(name, snapshot, scanner, { uid: process.getuid!() }).map((s) => s.pid)).toEqual([child.pid]);
    expect(findMatching(name, snapshot, scanner, { uid: process.getuid!() + 1 })).toEqual([]);
    expect(findMatching("gnome-text-editor-like-nam", snapshot, scanner)).toEqual([]);
    expect(findMatching("gnome-text-edit", snapshot, scanner).map((s) => s.pid)).toEqual([child.pid]);
  });

  it("finds a process by regex over its command line, oldest first", async () => {
    const older = children.spawn("sleep", ["31337"]);
    const scanner = new ProcScanner();
    await scanUntil(scanner, older.pid, (s) => s.comm === "sleep");
    await new Promise((resolve) => setTimeout(resolve, 50)); // a later start tick for the younger one
    const younger = children.spawn("sleep", ["31337.5"]);
    const { snapshot } = await scanUntil(scanner, younger.pid, (s) => s.comm === "sleep");
    expect(findMatching("/^sleep 31337$/", snapshot, scanner).map((s) => s.pid)).toEqual([older.pid]);
    expect(findMatching("/SLEEP 31337/i", snapshot, scanner).map((s) => s.pid)).toEqual([older.pid, younger.pid]);
    expect(findMatching("/^sleep 31338/", snapshot, scanner)).toEqual([]);
  });
});
