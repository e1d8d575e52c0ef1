// `selfheal import` run as a user would, on the built command.
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAEMON_NODE } from "../helpers/command.js";
import { DAEMON_JS, makeTestDir } from "../helpers/daemon.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("selfheal import", () => {
  it("writes config.toml from the original files, refuses to overwrite, and the result loads", () => {
    dir = makeTestDir("import");
    writeFileSync(join(dir, "process_list.txt"), "# process_name cpu_limit memory_limit_MB\ngedit 80 200\nfirefox 90 1500\n");
    writeFileSync(join(dir, "email_config.txt"), "smtp_server=smtp.example.org\nsmtp_port=587\nsender_email=me@example.org\nrecipient_email=you@example.org\n");
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir, "config") };
    execFileSync(DAEMON_NODE, [DAEMON_JS, "import", join(dir, "process_list.txt"), join(dir, "email_config.txt")], { env, stdio: "pipe" });
    const written = readFileSync(join(dir, "config", "selfheal", "config.toml"), "utf8");
    expect(written).toMatch(/\[process\.gedit\]/);
    expect(written).toMatch(/memory_limit_mb = 1500/);
    expect(written).toMatch(/smtp\.example\.org/);

    const again = spawnSync(DAEMON_NODE, [DAEMON_JS, "import", join(dir, "process_list.txt")], { env, encoding: "utf8" });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already exists; use --force/);
  });

  it("names the file and line of a malformed entry", () => {
    dir = makeTestDir("import-bad");
    writeFileSync(join(dir, "list.txt"), "gedit 80 200\ngedit eighty\n");
    const result = spawnSync(DAEMON_NODE, [DAEMON_JS, "import", join(dir, "list.txt"), "--output", "-"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "list.txt")}:2`);
  });
});
