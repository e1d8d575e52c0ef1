// install.sh and the project's scripts pass shellcheck (scripts/test-deps.sh installs it), every
// branch of them, the ones no test here can run too: install.sh's dnf branch for Fedora, whose
// repositories cannot be reached from where the tests run. That the check reads that branch is
// shown by a slip planted in it, which shellcheck must find.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, REPO } from "../helpers/bus.js";

const SCRIPTS = ["install.sh", ...readdirSync(join(REPO, "scripts")).filter((name) => name.endsWith(".sh")).map((name) => `scripts/${name}`)];
/** The dnf command line of install.sh, and the same with a misspelt variable. */
const DNF_LINE = 'dnf install -y $packages';
const DNF_SLIP = 'dnf install -y $pakages';

const dir = makeTempDir("shellcheck");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function shellcheck(cwd: string, files: string[]): { status: number | null; out: string } {
  const result = spawnSync("shellcheck", files, { cwd, encoding: "utf8" });
  if (result.error) throw result.error;
  return { status: result.status, out: result.stdout + result.stderr };
}

describe("shellcheck", () => {
  it("finds nothing in install.sh and scripts/*.sh", () => {
    expect(SCRIPTS).toContain("scripts/systemd-user-container.sh");
    const { status, out } = shellcheck(REPO, SCRIPTS);
    expect(out).toBe("");
    expect(status).toBe(0);
  });

  it("reads install.sh's dnf branch: a misspelt variable planted there is found", () => {
    const source = readFileSync(join(REPO, "install.sh"), "utf8");
    expect(source.split(DNF_LINE).length, "install.sh's dnf command line").toBe(2);
    writeFileSync(join(dir, "install.sh"), source.replace(DNF_LINE, DNF_SLIP));
    const { status, out } = shellcheck(dir, ["install.sh"]);
    expect(status).not.toBe(0);
    expect(out).toContain(DNF_SLIP);
    expect(out).toContain("SC2154");
  });
});
