// re2js (the linear-time engine of /regex/ matches) is loaded with the first
// pattern, not at start: a daemon whose policies name programs never loads it.
// The daemon runs in a fresh process (test/fixtures/re2js-lazy.ts): the test
// files share their worker process, where another file may have loaded re2js.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

import { afterEach, describe, expect, it } from "vitest";

import { makeTempDir, REPO } from "../helpers/bus.js";

let dir: string | null = null;

afterEach(() => {
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe("re2js", () => {
  it("is not loaded while every policy names a program, and is loaded by a reload that adds a /regex/ match", async () => {
    dir = makeTempDir("re2js-lazy");
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(REPO, "test/fixtures/re2js-lazy.ts"), dir], { cwd: REPO });
    const seen = JSON.parse(stdout.trim().split("\n").at(-1)!) as { names: { re2js: boolean; policies: number }; pattern: { re2js: boolean; policies: number } };
    expect(seen.names).toEqual({ re2js: false, policies: 1 });
    expect(seen.pattern).toEqual({ re2js: true, policies: 2 });
  });
});
