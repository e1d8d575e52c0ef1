// `selfheal import` run as a user would, on the built command.
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DAEMON_NODE } from "../helpers/command.js";
import { loadConfigFile } from "../../daemon/config/load.js";
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

  it("writes a mail password into a file only its owner can read, says so, and the daemon's loader accepts it", () => {
    dir = makeTestDir("import-password");
    writeFileSync(join(dir, "process_list.txt"), "gedit 80 200\n");
    writeFileSync(join(dir, "email_config.txt"), "smtp_server=smtp.example.org\nsender_email=me@example.org\nsender_password=app pw\nreceiver_email=you@example.org\n");
    const output = join(dir, "config.toml");
    // An earlier config others could read: --force replaces it with a private one.
    writeFileSync(output, "# old\n", { mode: 0o644 });
    const result = spawnSync(process.execPath, [DAEMON_JS, "import", join(dir, "process_list.txt"), join(dir, "email_config.txt"), "--output", output, "--force"], {
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(statSync(output).mode & 0o777).toBe(0o600);
    expect(result.stderr).toContain(`selfheal import: wrote ${output}\n`);
    expect(result.stderr).toMatch(/mail password .* plain text: it is readable by you only \(mode 600\); or move it to the keyring with `secret-tool store` and password_command/);
    const written = readFileSync(output, "utf8");
    expect(written).toContain('password = "app pw"');
    expect(written).toContain("#   secret-tool store --label=selfheal service selfheal user me@example.org");
    expect(written).toContain('#   password_command = [ "secret-tool", "lookup", "service", "selfheal", "user", "me@example.org" ]');
    expect(loadConfigFile(output).email?.password).toBe("app pw");

    const printed = spawnSync(process.execPath, [DAEMON_JS, "import", join(dir, "process_list.txt"), join(dir, "email_config.txt"), "--output", "-"], { encoding: "utf8" });
    expect(printed.status).toBe(0);
    expect(printed.stderr).toMatch(/plain text: save it where only you can read it \(chmod 600\)/);
  });

  it("says nothing of passwords when the email config has none", () => {
    dir = makeTestDir("import-nomail");
    writeFileSync(join(dir, "list.txt"), "gedit 80 200\n");
    const result = spawnSync(process.execPath, [DAEMON_JS, "import", join(dir, "list.txt"), "--output", join(dir, "c.toml")], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/password/);
  });

  it("names the file and line of a malformed entry", () => {
    dir = makeTestDir("import-bad");
    writeFileSync(join(dir, "list.txt"), "gedit 80 200\ngedit eighty\n");
    const result = spawnSync(DAEMON_NODE, [DAEMON_JS, "import", join(dir, "list.txt"), "--output", "-"], { encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${join(dir, "list.txt")}:2`);
  });
});
