// bash completion (completions/selfheal.bash) run by a real bash: commands,
// options, and the policy names of a running daemon (asked with `selfheal _names`),
// in a bus and PID namespace of their own. The same daemon warns, in its log and
// in `selfheal status`, of a policy whose default match is a common program.
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { sandboxProblem } from "../fixtures/sandbox.js";
import { DAEMON_JS } from "../helpers/daemon.js";
import { selfheal } from "../helpers/bus.js";

const SCRIPT = new URL("../../completions/selfheal.bash", import.meta.url).pathname;
const problem = sandboxProblem();
let box: BusSandbox;
let binDir: string;

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "complete", config: '[process.gedit]\n\n[process."notes-server"]\ncommand = ["python3", "-m", "http.server"]\n\n[process.naptime]\ncommand = ["sleep", "600"]\n' });
  // `selfheal` on PATH, as install.sh puts it.
  binDir = box.dir;
  const wrapper = join(binDir, "selfheal");
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${DAEMON_JS}" "$@"\n`);
  chmodSync(wrapper, 0o755);
  // Wait for the daemon (activated by the first call).
  expect((await selfheal(box.bus, ["status"])).code).toBe(0);
});

afterAll(async () => {
  await box?.close();
});

// What completing the words gives (the last word is the one being completed).
function complete(...words: string[]): string[] {
  const script = `source "${SCRIPT}"; COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _selfheal; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...box.bus.env, PATH: `${binDir}:${process.env.PATH ?? ""}` } });
  expect(result.stderr).toBe("");
  return result.stdout.split("\n").filter((line) => line !== "");
}

describe.skipIf(problem !== null)("bash completion", () => {
  it("completes commands, and the commands help names", () => {
    expect(complete("selfheal", "st")).toEqual(["status", "start", "stop"]);
    expect(complete("selfheal", "")).toContain("zombies");
    expect(complete("selfheal", "help", "po")).toEqual(["policy"]);
    expect(complete("selfheal", "--v")).toEqual(["--version"]);
  });

  it("completes the running daemon's policy names where a command takes one", () => {
    expect(complete("selfheal", "restart", "")).toEqual(["gedit", "naptime", "notes-server"]);
    expect(complete("selfheal", "status", "no")).toEqual(["notes-server"]);
    expect(complete("selfheal", "policy", "set", "g")).toEqual(["gedit"]);
    expect(complete("selfheal", "cooldown", "reset", "")).toEqual(["gedit", "naptime", "notes-server"]);
  });

  it("completes each command's options", () => {
    expect(complete("selfheal", "zombies", "--")).toEqual(["--clean", "--end-parent", "--json", "--help"]);
    expect(complete("selfheal", "events", "--f")).toEqual(["--follow"]);
  });

  it("completes no names, and prints nothing, when the daemon cannot be reached", () => {
    const script = `source "${SCRIPT}"; COMP_WORDS=(selfheal stop ''); COMP_CWORD=2; _selfheal; echo "\${#COMPREPLY[@]}"`;
    const result = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(box.dir, "no-bus")}`, PATH: `${binDir}:${process.env.PATH ?? ""}` },
    });
    expect(result.stdout).toBe("0\n");
    expect(result.stderr).toBe("");
  });
});

describe.skipIf(problem !== null)("a match that adopts every process of a common program", () => {
  const WARNING = 'process.naptime: its match "sleep" names a common program, so it adopts every sleep process of yours';

  it("is warned of when the config is applied (the daemon's log and the event) and by selfheal status", async () => {
    // At start, in the log.
    expect(box.daemonLog()).toContain(`selfheal: warning: ${WARNING}`);
    // On a change, in the log and the event too.
    box.writeConfig(`${readFileSync(box.configPath, "utf8")}# edited\n`);
    const applied = await box.waitForEvent("config-reloaded");
    expect(applied?.message).toContain(`configuration applied: 3 policies`);
    expect(applied?.message).toContain(`; warning: ${WARNING}`);
    const status = await selfheal(box.bus, ["status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`\nwarning: ${WARNING}, not only the one this policy starts; match the whole command line instead, e.g. match = "/^sleep 600$/"\n`);
    expect(status.stdout).not.toMatch(/warning: process\.(gedit|notes-server)/);
    const json = JSON.parse((await selfheal(box.bus, ["status", "--json"])).stdout) as { warnings: string[] };
    expect(json.warnings).toHaveLength(1);
  });
});
