// Without a [metrics] section nothing of the metrics is loaded: prom-client is
// never required (as nodemailer is loaded only for a first mail). A reload that
// adds the section loads it; one that removes it stops the writing.
// The daemon runs in a fresh process (test/fixtures/metrics-lazy.ts): the test
// files share their worker process, where another file may have loaded prom-client.
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

describe("the metrics adapter", () => {
  it("is not loaded without [metrics], and is loaded by a reload that adds it", async () => {
    dir = makeTempDir("lazy");
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(REPO, "test/fixtures/metrics-lazy.ts"), dir], { cwd: REPO });
    const seen = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      without: { adapter: boolean; promClient: boolean };
      added: { written: boolean; adapter: boolean; promClient: boolean; text: string };
      removed: { stopped: boolean };
    };
    expect(seen.without).toEqual({ adapter: false, promClient: false });
    expect(seen.added).toMatchObject({ written: true, adapter: true, promClient: true });
    expect(seen.added.text).toContain("# TYPE selfheal_up gauge");
    expect(seen.removed).toEqual({ stopped: true });
  });
});
