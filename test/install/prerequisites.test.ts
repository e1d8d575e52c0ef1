// install.sh's prerequisite check for Node.js: an older node on PATH is refused with what to do.
// The node here is a stand-in (a shell script answering as Node.js 16 would); that 18.19 passes the
// same check is shown by the install tests under `npm run test:node18`, with the real Node.js 18.19.1.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, REPO } from "../helpers/bus.js";

const home = makeTempDir("home");

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("install.sh's prerequisites", () => {
  it("refuses a Node.js older than 18.19 and says where to get one", () => {
    const bin = join(home, "fakebin");
    mkdirSync(bin);
    // `node --version` prints v16.20.2; the version check (`node -e ...`) fails as it does on 16.
    writeFileSync(join(bin, "node"), '#!/bin/sh\n[ "$1" = --version ] && { echo v16.20.2; exit 0; }\nexit 1\n');
    chmodSync(join(bin, "node"), 0o755);
    const result = spawnSync("bash", [join(REPO, "install.sh"), "--no-build"], {
      env: { ...process.env, HOME: home, PATH: `${bin}:${process.env.PATH ?? ""}` },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`Node.js 18.19 or later is needed, ${bin}/node is v16.20.2.`);
    expect(result.stderr).toContain("apt install nodejs");
    expect(existsSync(join(home, ".local/share/selfheal"))).toBe(false);
  });
});
