// A keeper's record as the daemon reads it: every line the keeper writes, and
// what a torn or foreign file gives (nothing, never a guess).
import { describe, expect, it } from "vitest";
import { encodeTag, errnoName, parseRecord, signalName } from "../../daemon/keeper/record.js";

const HEAD = "selfheal-keeper 1\nboot 6a5a6071-1297-4b96-9a86-58ec65f3433d\ntag web\nkeeper 100 5000\n";

describe("parseRecord", () => {
  it("reads a running program", () => {
    expect(parseRecord(`${HEAD}program 101 5001\n`)).toEqual({
      boot: "6a5a6071-1297-4b96-9a86-58ec65f3433d",
      tag: "web",
      keeper: { pid: 100, startTicks: 5000 },
      program: { pid: 101, startTicks: 5001 },
      followedFrom: null,
      end: null,
    });
  });

  it("reads an exit code, a signal with a core dump, and a fork followed", () => {
    expect(parseRecord(`${HEAD}program 101 5001\nend exit 3 0 1700000000123\n`)?.end).toEqual({ code: 3, signal: null, coreDumped: false, atMs: 1700000000123 });
    expect(parseRecord(`${HEAD}program 101 5001\nend signal 11 1 1700000000123\n`)?.end).toEqual({ code: null, signal: "SIGSEGV", coreDumped: true, atMs: 1700000000123 });
    const followed = parseRecord(`${HEAD}program 102 5010\nfollowed 101\n`);
    expect(followed).toMatchObject({ program: { pid: 102, startTicks: 5010 }, followedFrom: 101, end: null });
  });

  it.each([
    ["another format", "something else\n"],
    ["a later version", HEAD.replace("selfheal-keeper 1", "selfheal-keeper 2") + "program 101 5001\n"],
    ["no program line", HEAD],
    ["a torn end", `${HEAD}program 101 5001\nend signal 11\n`],
    ["an end of an unknown kind", `${HEAD}program 101 5001\nend vanished 1 0 1\n`],
    ["a pid that is not a number", `${HEAD}program x 5001\n`],
    ["empty", ""],
  ])("gives null for %s", (_what, text) => {
    expect(parseRecord(text)).toBeNull();
  });

  it("decodes the tag the daemon encoded", () => {
    expect(parseRecord(HEAD.replace("tag web", `tag ${encodeTag("my app+1")}`) + "program 101 5001\n")?.tag).toBe("my app+1");
  });
});

describe("names", () => {
  it("of signals and errno values, with a fallback for unknown numbers", () => {
    expect(signalName(9)).toBe("SIGKILL");
    // Two names for one number: the one Node's own exit events give.
    expect(signalName(6)).toBe("SIGABRT");
    expect(signalName(29)).toBe("SIGIO");
    expect(signalName(200)).toBe("signal 200");
    expect(errnoName(2)).toBe("ENOENT");
    expect(errnoName(99999)).toBe("errno 99999");
  });
});
