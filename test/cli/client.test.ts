// The `selfheal` client commands, run as a user runs them (the built
// dist/selfheal.js) against a daemon on a private bus: their output, their
// --json, and their exit statuses.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DAEMON_JS,
  DAEMON_NODE,
  FAST_SETTINGS,
  plain,
  processOf,
  selfheal,
  startPrivateBus,
  startScene,
  waitForProcess,
  waitUntil,
  type BusClient,
  type PrivateBus,
  type Scene,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const TAG = Math.random().toString(16).slice(2, 6);
const ZOMBIE_MAKER = resolve(import.meta.dirname, "../fixtures/zombie-maker.pl");
const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 };
let dir: string;
let program: string;
let bus: PrivateBus;
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  let programs: Record<"program", string>;
  ({ dir, bus, daemon, client, programs, close } = await startScene({
    prefix: "cli",
    programs: { program: `sbcli-${TAG}`, idle: `sbcli-id${TAG}` },
    config: ({ program, idle }) => `${FAST_SETTINGS}
[process.editor]
command = ["${program}", "600"]
autostart = true
memory_limit_mb = 500

[process.backup]
command = ["${idle}", "600"]
`,
  }));
  program = programs.program;
  await waitForProcess(client, "editor", (record) => record.pid > 0 && record.rss_bytes > 0);
});

afterAll(() => close?.());

describe("without a daemon", () => {
  it("says the daemon is not running, exit 3", async () => {
    const empty = await startPrivateBus();
    try {
      const result = await selfheal(empty, ["status"]);
      expect(result.code).toBe(EXIT.unreachable);
      expect(result.stderr).toBe(
        'selfheal: the selfheal daemon is not running (nothing owns io.github.SelfHeal1 on the session bus). Start it with "systemctl --user start selfheal", or run "selfheal daemon".\n',
      );
      expect(result.stdout).toBe("");
    } finally {
      await empty.stop();
    }
  });

  it("says there is no session bus, exit 3", async () => {
    const result = await selfheal(bus, ["stop", "editor"], { DBUS_SESSION_BUS_ADDRESS: "", XDG_RUNTIME_DIR: dir });
    expect(result.code).toBe(EXIT.unreachable);
    expect(result.stderr).toContain("no session bus found");
  });
});

describe("status", () => {
  it("prints the health line and a table of every process", async () => {
    const result = await selfheal(bus, ["status"]);
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^selfheal \d+\.\d+\.\d+: health ok; 2 programs watched, 0 in cooldown, 0 anomalies, \d+ zombies?$/);
    expect(lines[1]).toMatch(/^NAME\s+STATE\s+PID\s+CPU\s+MEMORY\s+RESTARTS\s+COOLDOWN$/);
    const { pid } = await processOf(client, "editor");
    expect(lines[2]).toMatch(/^backup\s+stopped\s+-\s+-\s+-\s+0\s+-$/);
    expect(lines[3]).toMatch(new RegExp(`^editor\\s+running\\s+${pid}\\s+\\d+\\.\\d%\\s+\\d+\\.\\d (KB|MB)\\s+0\\s+-$`));
  });

  it("--json gives the properties and the records", async () => {
    const result = await selfheal(bus, ["status", "--json"]);
    const parsed = JSON.parse(result.stdout) as { health: string; watched: number; processes: Array<{ name: string; memory_limit_bytes: number }> };
    expect(parsed).toMatchObject({ health: "ok", watched: 2 });
    expect(parsed.processes.find((p) => p.name === "editor")?.memory_limit_bytes).toBe(500 * 1024 * 1024);
  });

  it("status NAME shows one process in detail; an unknown one exits 1", async () => {
    const detail = await selfheal(bus, ["status", "editor"]);
    expect(detail.stdout).toMatch(/^name: {5}editor\nstate: {4}running\npid: {6}\d+\nmanaged: {2}yes \(started by selfheal\)\n/);
    expect(detail.stdout).toContain("limit 500.0 MB");
    const unknown = await selfheal(bus, ["status", "nope"]);
    expect(unknown.code).toBe(EXIT.failed);
    expect(unknown.stderr).toMatch(/^selfheal: no program named "nope"; watched programs: ([\w.@+-]+, )*editor(, [\w.@+-]+)* \(UnknownProcess\)\n$/);
  });
});

describe("start, stop, restart", () => {
  it("stop, start and restart report the new state", async () => {
    const stop = await selfheal(bus, ["stop", "editor"]);
    expect(stop).toMatchObject({ code: EXIT.ok, stdout: "editor: stopped\n" });
    const start = await selfheal(bus, ["start", "editor"]);
    expect(start.code).toBe(EXIT.ok);
    const started = Number(/^editor: running \(PID (\d+)\)\n$/.exec(start.stdout)?.[1]);
    expect(started).toBeGreaterThan(0);
    const restart = await selfheal(bus, ["restart", "editor", "--json"]);
    const record = JSON.parse(restart.stdout) as { pid: number; state: string };
    expect(record.state).toBe("running");
    expect(record.pid).not.toBe(started);
  });

  it("usage errors exit 2", async () => {
    expect((await selfheal(bus, ["start"])).code).toBe(EXIT.usage);
    const extra = await selfheal(bus, ["stop", "a", "b"]);
    expect(extra.code).toBe(EXIT.usage);
    expect(extra.stderr).toContain("stop takes one process name");
    const option = await selfheal(bus, ["status", "--clean"]);
    expect(option).toMatchObject({ code: EXIT.usage, stderr: "selfheal: status does not take --clean; it takes --history and --json\n" });
  });
});

describe("cooldown and zombies", () => {
  it("cooldown lists windows; cooldown reset NAME answers", async () => {
    const list = await selfheal(bus, ["cooldown", "--json"]);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
    const reset = await selfheal(bus, ["cooldown", "reset", "editor"]);
    expect(reset).toMatchObject({ code: EXIT.ok, stdout: "editor: cooldown reset, restarts allowed again (running)\n" });
    expect((await selfheal(bus, ["cooldown", "reset", "nope"])).code).toBe(EXIT.failed);
    expect((await selfheal(bus, ["cooldown", "bogus"])).code).toBe(EXIT.usage);
  });

  it("zombies lists them; --json as records", async () => {
    // This daemon sees the whole machine, where other programs' zombies come and go between
    // two calls: the test follows a zombie of its own, which stays while its maker lives.
    const parentName = `zcli-${TAG}`;
    const maker = spawn("perl", [ZOMBIE_MAKER, "1", "60", parentName], { stdio: "ignore" });
    try {
      const ours = async () => (plain((await client.call("ListZombies"))[0]) as Array<{ ppid: number; parent_name: string }>).filter((zombie) => zombie.parent_name === parentName);
      await waitUntil(async () => (await ours()).length === 1, 10_000, () => "the daemon did not list the test's zombie");
      const listed = await selfheal(bus, ["zombies", "--json"]);
      expect(listed.code).toBe(EXIT.ok);
      const records = (JSON.parse(listed.stdout) as Array<Record<string, unknown>>).filter((zombie) => zombie.parent_name === parentName);
      // The child is a copy of its renamed parent, name and all.
      expect(records).toEqual([{ pid: expect.any(Number), ppid: maker.pid, name: parentName, parent_name: parentName, uid: process.getuid!(), age: expect.any(Number), parent_sigchld: "default", parent_protected: "" }]);
      const table = await selfheal(bus, ["zombies"]);
      expect(table.stdout).toContain(parentName);
    } finally {
      maker.kill("SIGKILL");
    }
  });
});

describe("events", () => {
  it("--limit, --json and --since", async () => {
    const three = await selfheal(bus, ["events", "--limit", "3"]);
    expect(three.code).toBe(EXIT.ok);
    const lines = three.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}\S+\s+\S/);
    const json = await selfheal(bus, ["events", "--json", "-n", "2"]);
    const records = json.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as { kind: string; time_usec: number });
    expect(records).toHaveLength(2);
    expect(records[1]!.time_usec).toBeGreaterThanOrEqual(records[0]!.time_usec);
    const future = await selfheal(bus, ["events", "--since", new Date(Date.now() + 3_600_000).toISOString()]);
    expect(future).toMatchObject({ code: EXIT.ok, stdout: "" });
    expect((await selfheal(bus, ["events", "--since", "whenever"])).code).toBe(EXIT.usage);
    expect((await selfheal(bus, ["events", "--limit", "-1"])).code).toBe(EXIT.usage);
  });

  it("--follow prints events as they happen and exits 0 on Ctrl+C", async () => {
    const follower = spawn(DAEMON_NODE, [DAEMON_JS, "events", "--follow", "--limit", "1"], { env: bus.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    follower.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const ended = new Promise<number | null>((done) => follower.once("exit", (code) => done(code)));
    await waitUntil(() => output.split("\n").length >= 2, 10_000, () => `no history printed: ${output}`);
    const before = await processOf(client, "editor");
    await client.call("RestartProcess", "s", ["editor"]);
    const after = await processOf(client, "editor");
    await waitUntil(() => output.includes(`(PID ${before.pid} → ${after.pid}, after request)`), 10_000, () => `the restart was not followed:\n${output}`);
    follower.kill("SIGINT");
    expect(await ended).toBe(EXIT.ok);
  });
});

describe("policy", () => {
  it("get prints config.toml tables; --json one policy", async () => {
    const all = await selfheal(bus, ["policy", "get"]);
    expect(all.stdout).toContain(`[process.editor]\ncommand = [ "${program}", "600" ]\n`);
    expect(all.stdout).toContain("memory_limit_mb = 500\n");
    const one = JSON.parse((await selfheal(bus, ["policy", "get", "editor", "--json"])).stdout) as Record<string, unknown>;
    expect(one).toMatchObject({ memory_limit_mb: 500, autostart: true });
    expect((await selfheal(bus, ["policy", "get", "nope"])).code).toBe(EXIT.failed);
  });

  it("set creates and changes keys, rm removes; the daemon applies them", async () => {
    const created = await selfheal(bus, ["policy", "set", "newp", `command=["${program}","5"]`, "memory_limit_mb=64", "restart=always", "cooldown.pause=30"]);
    expect(created.code).toBe(EXIT.ok);
    expect(created.stdout).toContain("# set over D-Bus; config.toml has no [process.newp]\n[process.newp]\n");
    expect(created.stdout).toContain('restart = "always"  # set over D-Bus\n');
    expect(created.stdout).toContain("cooldown = { max_restarts = 5, window = 60, pause = 30 }  # pause set over D-Bus\n");
    expect(created.stdout).toContain("scope = \"tree\"\n");
    expect(await processOf(client, "newp")).toMatchObject({ memory_limit_bytes: 64 * 1024 * 1024 });

    const changed = await selfheal(bus, ["policy", "set", "newp", "memory_limit_mb=", "cpu_limit=25.5"]);
    expect(changed.code).toBe(EXIT.ok);
    expect(await processOf(client, "newp")).toMatchObject({ memory_limit_bytes: 0, cpu_limit: 25.5 });
    // The keys set earlier stay set: the command, the restart mode, the pause.
    expect(JSON.parse((await selfheal(bus, ["policy", "get", "newp", "--json"])).stdout)).toMatchObject({
      command: [program, "5"],
      restart: "always",
      cooldown: { pause: 30 },
      overridden: ["command", "cooldown.pause", "cpu_limit", "restart"],
    });

    const invalid = await selfheal(bus, ["policy", "set", "newp", "sustain=often"]);
    expect(invalid.code).toBe(EXIT.failed);
    expect(invalid.stderr).toMatch(/^selfheal: SetPolicy: process\.newp\.sustain: .*\(InvalidPolicy\)\n$/s);
    expect((await selfheal(bus, ["policy", "set", "newp", "justakey"])).code).toBe(EXIT.usage);

    const removed = await selfheal(bus, ["policy", "rm", "newp"]);
    expect(removed.code).toBe(EXIT.ok);
    expect((await selfheal(bus, ["policy", "rm", "newp"])).code).toBe(EXIT.failed);
    expect(readFileSync(daemon.configPath, "utf8")).not.toContain("newp");
  });

  it("set on a config.toml policy keeps only that key; reset goes back to config.toml", async () => {
    const set = await selfheal(bus, ["policy", "set", "editor", "memory_limit_mb=600"]);
    expect(set.stdout).toContain("memory_limit_mb = 600  # set over D-Bus; config.toml says 500\n");
    expect(set.stdout).toContain("autostart = true\n");
    const reset = await selfheal(bus, ["policy", "reset", "editor"]);
    expect(reset).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(reset.stdout).toContain("memory_limit_mb = 500\n");
    expect((await selfheal(bus, ["policy", "reset", "nope"])).stderr).toMatch(/^selfheal: no policy, override or removal named "nope"; watched programs: ([\w.@+-]+, )*editor(, [\w.@+-]+)* \(UnknownProcess\)\n$/);
    expect((await selfheal(bus, ["policy", "reset"])).code).toBe(EXIT.usage);
  });

  it("a new command re-derives a match that came from the old one", async () => {
    await selfheal(bus, ["policy", "set", "mover", `command=["${program}","7"]`]);
    const moved = await selfheal(bus, ["policy", "set", "mover", 'command=["/bin/true"]', "--json"]);
    expect(JSON.parse(moved.stdout)).toMatchObject({ command: ["/bin/true"], match: "true" });
    await selfheal(bus, ["policy", "rm", "mover"]);
  });
});
