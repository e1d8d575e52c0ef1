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

describe("selfheal help and --version", () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [DAEMON_JS, ...args], { encoding: "utf8" });

  it("prints the version", () => {
    const result = run("--version");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^selfheal \d+\.\d+\.\d+\n$/);
  });

  it("prints the overview for help, --help and -h, listing every command", () => {
    for (const args of [["help"], ["--help"], ["-h"]]) {
      const result = run(...args);
      expect(result.status, args.join(" ")).toBe(0);
      expect(result.stdout).toMatch(/^Usage: selfheal <command> \[options\]/);
      for (const command of ["status", "start|stop|restart", "cooldown", "zombies", "events", "policy", "import", "daemon", "help"]) {
        expect(result.stdout).toContain(`\n  ${command} `);
      }
    }
  });

  it("prints one command's page for help COMMAND and COMMAND --help", () => {
    const page = run("help", "zombies");
    expect(page.status).toBe(0);
    expect(page.stdout).toMatch(/^Usage: selfheal zombies \[--clean \| --end-parent PID\] \[--json\]\n/);
    expect(page.stdout).toContain("selfheal zombies --end-parent 4242");
    expect(run("zombies", "--help").stdout).toBe(page.stdout);
    expect(run("help", "policy").stdout).toMatch(/^Usage: selfheal policy get/);
  });

  it("names the commands when help is asked about one that does not exist, and exits 2", () => {
    const result = run("help", "frobnicate");
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('selfheal help: no command named "frobnicate"; the commands are daemon, import, status, start, stop, restart, cooldown, zombies, events, policy, watch-app, apps, help\n');
  });

  it("exits 2 with the overview on standard error when no command is given", () => {
    const result = run();
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Usage: selfheal/);
  });
});
