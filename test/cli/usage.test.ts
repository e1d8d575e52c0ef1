// The command line's own errors, run as a user would on the built command.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { DAEMON_NODE } from "../helpers/command.js";
import { DAEMON_JS } from "../helpers/daemon.js";

describe("selfheal usage errors", () => {
  it("refuses a mistyped option of `daemon` instead of ignoring it", () => {
    const result = spawnSync(DAEMON_NODE, [DAEMON_JS, "daemon", "--confg", "x.toml"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("selfheal daemon: unknown option --confg");
  });

  it("names an unknown command and exits 2", () => {
    const result = spawnSync(DAEMON_NODE, [DAEMON_JS, "frobnicate"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
