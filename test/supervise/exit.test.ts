import { describe, expect, it } from "vitest";
import { classifyExit, unknownExit } from "../../daemon/supervise/exit.js";
import { backoffDelayMs, BACKOFF_MAX_DELAY_MS } from "../../daemon/supervise/backoff.js";

describe("classifyExit", () => {
  it.each([
    [0, null, "normal"],
    [1, null, "crash"],
    [139, null, "crash"],
    [null, "SIGTERM", "normal"],
    [null, "SIGINT", "normal"],
    [null, "SIGHUP", "normal"],
    [null, "SIGPIPE", "normal"],
    [null, "SIGSEGV", "crash"],
    [null, "SIGABRT", "crash"],
    [null, "SIGBUS", "crash"],
    [null, "SIGFPE", "crash"],
    [null, "SIGILL", "crash"],
    [null, "SIGKILL", "crash"],
  ] as const)("code %s signal %s is %s", (code, signal, kind) => {
    expect(classifyExit(code, signal).kind).toBe(kind);
  });

  it("describes what happened", () => {
    expect(classifyExit(3, null).description).toBe("exited with code 3");
    expect(classifyExit(null, "SIGSEGV").description).toBe("killed by SIGSEGV");
    expect(unknownExit()).toMatchObject({ kind: "unknown", code: null, signal: null });
  });
});

describe("backoffDelayMs", () => {
  it("is immediate first, then doubles up to the cap", () => {
    expect([0, 1, 2, 3, 4].map(backoffDelayMs)).toEqual([0, 100, 200, 400, 800]);
    expect(backoffDelayMs(30)).toBe(BACKOFF_MAX_DELAY_MS);
  });
});
