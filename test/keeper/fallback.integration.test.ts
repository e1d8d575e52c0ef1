// Without a keeper (none was built: no C compiler; or --no-keeper), programs
// are started as the daemon's own children and the daemon says, at every
// start, that their crash protection ends with it. The built daemon is copied
// to a folder without the keeper, as a build without a C compiler leaves it.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { copyBuiltDaemon, DAEMON_JS, DAEMON_NODE, daemonNodeFlags } from "../helpers/command.js";
import { isRunning, killQuietly, makeTestDir, uniqueSleep, waitFor } from "../helpers/daemon.js";
import { DEFAULT_WAIT_MS } from "../helpers/bus.js";

let daemon: ChildProcess | null = null;
let dir = "";
const leftovers: number[] = [];

afterEach(async () => {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const ended = new Promise((done) => daemon!.once("exit", done));
    daemon.kill("SIGKILL");
    await ended;
  }
  daemon = null;
  killQuietly(leftovers.splice(0));
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

function events(): EngineEvent[] {
  try {
    return readFileSync(join(dir, "state", "selfheal", "events.jsonl"), "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as EngineEvent);
  } catch {
    return [];
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

// Run `daemonFile` on a policy for a unique program; resolves with the daemon's stderr so far and the program's PID.
async function runDaemon(daemonFile: string, args: string[] = []): Promise<{ stderr: () => string; pid: number }> {
  const program = uniqueSleep(dir, "fbprog");
  const config = join(dir, "config.toml");
  writeFileSync(config, `[settings]\ninterval = 0.2\n\n[process.fbprog]\ncommand = ["${program}", "300"]\nautostart = true\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, "config"), XDG_STATE_HOME: join(dir, "state"), XDG_RUNTIME_DIR: join(dir, "runtime") };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  daemon = spawn(DAEMON_NODE, [...daemonNodeFlags(), daemonFile, "daemon", "--no-bus", "--config", config, ...args], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  daemon.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  await waitFor(() => events().some((e) => e.kind === "started"), DEFAULT_WAIT_MS, () => `the program did not start:\n${stderr}`);
  const started = events().find((e) => e.kind === "started")!;
  const pid = started.kind === "started" ? started.pid : 0;
  leftovers.push(pid);
  return { stderr: () => stderr, pid };
}

describe("without a keeper", () => {
  it("built without one (no C compiler): the daemon says so at start, and starts programs as its own children", async () => {
    dir = makeTestDir("nokeeper-built");
    const bare = join(dir, "dist");
    mkdirSync(bare);
    const { stderr, pid } = await runDaemon(copyBuiltDaemon(bare));
    expect(stderr()).toContain(`selfheal: no keeper: ${join(bare, "selfheal-keeper")} is missing`);
    expect(stderr()).toContain("apt install gcc libc6-dev");
    const warning = events().find((e) => e.kind === "keeper-unavailable");
    expect(warning?.message).toContain("a restart of the daemon ends their crash protection");
    expect(parentOf(pid)).toBe(daemon!.pid);
    // Crash protection itself still works while this daemon runs.
    process.kill(pid, "SIGSEGV");
    await waitFor(() => events().some((e) => e.kind === "restarted"), DEFAULT_WAIT_MS, () => "not restarted");
    const restarted = events().find((e) => e.kind === "restarted");
    if (restarted?.kind === "restarted") leftovers.push(restarted.newPid);
    expect(events().find((e) => e.kind === "crashed")).toMatchObject({ signal: "SIGSEGV", statusKnown: true });
  });

  it("--no-keeper: the same, by choice", async () => {
    dir = makeTestDir("nokeeper-flag");
    const { stderr, pid } = await runDaemon(DAEMON_JS, ["--no-keeper"]);
    expect(stderr()).toContain("selfheal: no keeper: started with --no-keeper");
    expect(parentOf(pid)).toBe(daemon!.pid);
    expect(isRunning(pid)).toBe(true);
  });
});
