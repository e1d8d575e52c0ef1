// SetPolicy and RemovePolicy: validated like config.toml, applied at once,
// persisted in the daemon's overrides file (config.toml and its comments are
// never rewritten), and still in force after the daemon restarts.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUS_NAME,
  busctl,
  connectClient,
  MANAGER_INTERFACE,
  OBJECT_PATH,
  plain,
  processOf,
  startScene,
  startSelfheal,
  waitForProcess,
  type BusClient,
  type PrivateBus,
  type Scene,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const { Variant } = dbus;
const TAG = Math.random().toString(16).slice(2, 6);
let program: string;
let bus: PrivateBus;
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];
const CONFIG = `# Hand-written: these comments must survive every D-Bus edit.
[settings]
interval = 0.2

[process.keeper]   # a comment at the end of a line
command = ["PROGRAM", "600"]
`;

beforeAll(async () => {
  let programs: Record<"program", string>;
  ({ bus, daemon, client, programs, close } = await startScene({
    prefix: "pol",
    programs: { program: `sbpol-${TAG}` },
    config: ({ program }) => CONFIG.replace("PROGRAM", program),
  }));
  program = programs.program;
});

afterAll(async () => {
  // The daemon and the client may be the ones started after the restart.
  await close?.({ daemon, client });
  if (daemon) rmSync(daemon.root, { recursive: true, force: true });
});

const policies = async (): Promise<Record<string, Record<string, unknown>>> => plain((await client.call("GetPolicies"))[0]) as Record<string, Record<string, unknown>>;

describe("SetPolicy", () => {
  it("applies a new policy at once (WatchedCount by PropertiesChanged), starts it when autostart is set", async () => {
    const result = await busctl(bus, [
      "call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "SetPolicy", "sa{sv}", "added", "4",
      "command", "as", "2", program, "300",
      "memory_limit_mb", "d", "64",
      "autostart", "b", "true",
      "cooldown", "a{sv}", "1", "pause", "u", "30",
    ]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    await client.signals.waitFor("PropertiesChanged", ([, props]) => (plain(props) as Record<string, unknown>).WatchedCount === 2);
    expect((await policies()).added).toMatchObject({ command: [program, "300"], memory_limit_mb: 64, autostart: true, cooldown: { pause: 30, max_restarts: 5 } });
    const record = await waitForProcess(client, "added", (r) => r.pid > 0);
    expect(record).toMatchObject({ state: "running", managed: true, memory_limit_bytes: 64 * 1024 * 1024 });
  });

  it("replaces a policy: a new limit takes effect on the running process without a restart", async () => {
    const before = await processOf(client, "added");
    await client.call("SetPolicy", "sa{sv}", ["added", { command: new Variant("as", [program, "300"]), memory_limit_mb: new Variant("x", 128n), autostart: new Variant("b", true) }]);
    const after = await processOf(client, "added");
    expect(after.memory_limit_bytes).toBe(128 * 1024 * 1024);
    expect(after.pid).toBe(before.pid);
  });

  it("persists to overrides.json and never rewrites config.toml", async () => {
    const overrides = JSON.parse(readFileSync(join(daemon.stateDir, "overrides.json"), "utf8")) as { policies: Record<string, { set: Record<string, unknown> }> };
    // Only the keys set (a policy config.toml does not have: those that differ from the defaults).
    expect(overrides.policies.added).toEqual({ set: { command: [program, "300"], memory_limit_mb: 128, autostart: true } });
    expect(readFileSync(daemon.configPath, "utf8")).toBe(CONFIG.replace("PROGRAM", program));
  });

  it("ten edits at once all land (none lost to another's write)", async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.call("SetPolicy", "sa{sv}", [`burst${i}`, { command: new Variant("as", [program, String(100 + i)]) }])),
    );
    const names = Object.keys(await policies());
    for (let i = 0; i < 10; i++) expect(names).toContain(`burst${i}`);
    const overrides = JSON.parse(readFileSync(join(daemon.stateDir, "overrides.json"), "utf8")) as { policies: Record<string, unknown> };
    expect(Object.keys(overrides.policies).filter((name) => name.startsWith("burst"))).toHaveLength(10);
  });

  it("the anomaly sub-tables go in and come back typed (counts u, thresholds d)", async () => {
    const fork = new Variant("a{sv}", { max_descendants: new Variant("i", 20), action: new Variant("s", "notify") });
    const leak = new Variant("a{sv}", { min_duration: new Variant("d", 3), enabled: new Variant("b", true) });
    await client.call("SetPolicy", "sa{sv}", ["guarded", { command: new Variant("as", [program, "9"]), fork_bomb: fork, leak }]);
    const [all] = (await client.call("GetPolicies")) as [Record<string, Record<string, InstanceType<typeof Variant>>>];
    const guarded = all.guarded!;
    expect(guarded.fork_bomb!.signature).toBe("a{sv}");
    const forkBomb = guarded.fork_bomb!.value as Record<string, InstanceType<typeof Variant>>;
    expect(forkBomb.max_descendants).toMatchObject({ signature: "u", value: 20 });
    expect(forkBomb.action).toMatchObject({ signature: "s", value: "notify" });
    const leakBack = guarded.leak!.value as Record<string, InstanceType<typeof Variant>>;
    expect(leakBack.min_duration).toMatchObject({ signature: "d", value: 3 });
    expect(leakBack.enabled).toMatchObject({ signature: "b", value: true });
    await client.call("RemovePolicy", "s", ["guarded"]);
  });

  it("a name with every allowed odd character works", async () => {
    const odd = "a.b@c+d-e_F9";
    await client.call("SetPolicy", "sa{sv}", [odd, { command: new Variant("as", [program, "5"]) }]);
    expect(await processOf(client, odd)).toMatchObject({ name: odd, state: "stopped" });
    await client.call("RemovePolicy", "s", [odd]);
  });
});

describe("RemovePolicy", () => {
  it("removes a policy at once, leaves its program running, and persists", async () => {
    const { pid } = await processOf(client, "added");
    await client.call("RemovePolicy", "s", ["added"]);
    expect(Object.keys(await policies())).not.toContain("added");
    expect(() => process.kill(pid, 0)).not.toThrow();
    // Our own program: end it while the daemon, its parent, is there to collect it.
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 10; i++) await client.call("RemovePolicy", "s", [`burst${i}`]);
  });

  it("removes a policy of config.toml without touching the file", async () => {
    await client.call("RemovePolicy", "s", ["keeper"]);
    expect(Object.keys(await policies())).toEqual([]);
    expect(readFileSync(daemon.configPath, "utf8")).toBe(CONFIG.replace("PROGRAM", program));
  });
});

describe("after a restart of the daemon", () => {
  it("the edits are still in force", async () => {
    await client.call("SetPolicy", "sa{sv}", ["survivor", { command: new Variant("as", [program, "7"]), cpu_limit: new Variant("d", 42.5) }]);
    client.close();
    const root = daemon.root;
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
    daemon = await startSelfheal(bus, { root });
    client = await connectClient(bus);
    const after = await policies();
    expect(Object.keys(after)).toEqual(["survivor"]);
    expect(after.survivor).toMatchObject({ cpu_limit: 42.5, command: [program, "7"] });
    expect(readFileSync(daemon.configPath, "utf8")).toBe(CONFIG.replace("PROGRAM", program));
  });
});
