// install.sh's dnf branch (Fedora), with a STAND-IN for dnf: Fedora's repositories and images
// cannot be reached from where these tests run (only Debian's mirror and the npm registry can), so
// no real Fedora runs here. The stand-in is a shell script named dnf that records its arguments and
// acts out one outcome: it fails, it "installs" a Node.js older than 18.19, or it installs Node.js
// without npm. install.sh runs on this machine with a PATH made like the machine's but without
// apt-get, node or npm, so it finds Node.js missing and takes the dnf branch. What these tests show
// is the branch's command line and its messages, not that Fedora's packages work; the branch is
// also checked by shellcheck (shellcheck.test.ts). Debian's apt-get runs for real in
// distributionNode.e2e.test.ts.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAEMON_NODE, makeTempDir, REPO } from "../helpers/bus.js";

/** Commands left out of the PATH: install.sh must find no Node.js and no apt-get. */
const LEFT_OUT = new Set(["apt-get", "node", "nodejs", "npm", "dnf"]);

const FAKE_DNF = `#!/bin/sh
# A stand-in for Fedora's dnf: records its arguments, then acts out $FAKE_DNF_OUTCOME.
printf '%s\\n' "$*" >>"$FAKE_DNF_LOG"
bin=$(dirname "$0")
case "$FAKE_DNF_OUTCOME" in
  fail) echo "Error: Failed to download metadata for repo 'fedora'" >&2; exit 1 ;;
  old-node)
    printf '#!/bin/sh\\n[ "$1" = --version ] && { echo v16.20.2; exit 0; }\\nexit 1\\n' >"$bin/node"
    chmod +x "$bin/node" ;;
  node-without-npm) ln -s "$FAKE_DNF_NODE" "$bin/node" ;;
esac
`;

let home = "";
let bin = "";

// install.sh with the stand-in dnf acting out `outcome`; its result and dnf's recorded arguments.
function installWithDnf(outcome: string, ...args: string[]): { status: number | null; stdout: string; stderr: string; dnfCalls: string[] } {
  rmSync(join(bin, "node"), { force: true });
  const log = join(home, "dnf.log");
  rmSync(log, { force: true });
  const result = spawnSync("bash", [join(REPO, "install.sh"), ...args], {
    cwd: home,
    env: { ...process.env, HOME: home, PATH: bin, FAKE_DNF_OUTCOME: outcome, FAKE_DNF_LOG: log, FAKE_DNF_NODE: DAEMON_NODE },
    encoding: "utf8",
    timeout: 120_000,
  });
  const dnfCalls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, dnfCalls };
}

describe("install.sh on Fedora (dnf is a stand-in: Fedora's repositories are unreachable here)", () => {
  beforeAll(() => {
    home = makeTempDir("home");
    bin = join(home, "bin");
    mkdirSync(bin);
    // This machine's commands, the first of each name on its PATH, but for those left out.
    for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (LEFT_OUT.has(name) || existsSync(join(bin, name))) continue;
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    writeFileSync(join(bin, "dnf"), FAKE_DNF);
    chmodSync(join(bin, "dnf"), 0o755);
  });

  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("asks dnf for Fedora's nodejs when Node.js is missing, and says so when dnf fails", () => {
    const result = installWithDnf("fail", "--no-build");
    expect(result.dnfCalls).toEqual(["install -y nodejs"]);
    expect(result.stdout).toContain("selfheal: missing: Node.js 18.19 or later; installing nodejs (dnf, as root)");
    expect(result.stderr).toContain("selfheal: could not install nodejs with dnf; install them (Node.js 18.19 or later) and run ./install.sh again");
    expect(result.status).toBe(1);
    expect(existsSync(join(home, ".local/share/selfheal"))).toBe(false);
  });

  it("to build, asks for npm too; names what is still missing after dnf ran", () => {
    const result = installWithDnf("node-without-npm");
    expect(result.dnfCalls).toEqual(["install -y nodejs npm"]);
    expect(result.stderr).toContain("selfheal: installed nodejs npm with dnf, yet still missing: npm; install it and run ./install.sh again");
    expect(result.status).toBe(1);
    expect(existsSync(join(home, ".local/share/selfheal"))).toBe(false);
  });

  it("says when the distribution's Node.js it installed is older than 18.19", () => {
    const result = installWithDnf("old-node", "--no-build");
    expect(result.dnfCalls).toEqual(["install -y nodejs"]);
    expect(result.stderr).toContain(`selfheal: Node.js 18.19 or later is needed, and the distribution's nodejs just installed, ${bin}/node, is v16.20.2`);
    expect(result.stderr).toContain("https://nodejs.org/en/download");
    expect(result.status).toBe(1);
    expect(existsSync(join(home, ".local/share/selfheal"))).toBe(false);
  });
});
