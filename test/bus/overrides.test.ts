// Edits that stay visible: an override set over D-Bus keeps only the keys that
// were set, config.toml's other keys keep applying, and wherever config.toml's
// value is shadowed (or its policy hidden by RemovePolicy) the user sees it:
// the reload event, GetPolicies, selfheal policy get and status. ResetPolicy
// (and selfheal policy reset) is the way back. Driven through busctl, the CLI
// and edits of config.toml; the bus and the daemon run in a PID namespace.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { sandboxProblem } from "../fixtures/sandbox.js";
import { BUS_NAME, busctl, connectClient, DEFAULT_WAIT_MS, errorOf, MANAGER_INTERFACE, OBJECT_PATH, plain, processOf, selfheal, testProgram, waitUntil, type BusClient } from "../helpers/bus.js";

const problem = sandboxProblem();
let box: BusSandbox;
let client: BusClient;
let web: string;
let old: string;

type Reloaded = Extract<EngineEvent, { kind: "config-reloaded" }>;

// config.toml with web's memory limit, restart mode and cooldown pause as given.
function config(memory: number, restart: string, pause: number): string {
  return `[settings]
interval = 0.2

[process.web]
command = ["${web}", "600"]
memory_limit_mb = ${memory}
restart = "${restart}"
cooldown = { max_restarts = 3, pause = ${pause} }

[process.old]
command = ["${old}", "600"]
`;
}

const call = (...args: string[]) => busctl(box.bus, ["call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, ...args]);
const policies = async (): Promise<Record<string, Record<string, unknown>>> => plain((await client.call("GetPolicies"))[0]) as Record<string, Record<string, unknown>>;
const overridesFile = (): Record<string, unknown> => JSON.parse(readFileSync(join(box.stateDir, "overrides.json"), "utf8")) as Record<string, unknown>;
// The config-reloaded events from the n-th on.
const reloadsFrom = (n: number): Reloaded[] => box.events().filter((event): event is Reloaded => event.kind === "config-reloaded").slice(n);
const reloadCount = (): number => reloadsFrom(0).length;

// Save config.toml and wait for the daemon to apply it.
async function saveConfig(text: string): Promise<Reloaded> {
  const before = reloadCount();
  box.writeConfig(text);
  await waitUntil(() => reloadCount() > before, DEFAULT_WAIT_MS, () => `config.toml was not applied:\n${box.daemonLog()}`);
  return reloadsFrom(before)[0]!;
}

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "ovr" });
  web = testProgram(box.dir, "web-server");
  old = testProgram(box.dir, "old-tool");
  box.writeConfig(config(90, "on-failure", 100));
  await box.startDaemon();
  client = await connectClient(box.bus);
});

afterAll(async () => {
  client?.close();
  await box?.close();
});

describe.skipIf(problem !== null)("an override keeps only the keys that were set", () => {
  it("busctl SetPolicy with one key: overrides.json holds that key alone; GetPolicies marks it and keeps config.toml's value", async () => {
    const result = await call("SetPolicy", "sa{sv}", "web", "1", "memory_limit_mb", "d", "120");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(overridesFile()).toEqual({ version: 2, policies: { web: { set: { memory_limit_mb: 120 } } }, removed: [] });
    const record = (await policies()).web!;
    expect(record).toMatchObject({
      command: [web, "600"],
      memory_limit_mb: 120,
      restart: "on-failure",
      cooldown: { max_restarts: 3, window: 60, pause: 100 },
      overridden: ["memory_limit_mb"],
      shadowed: { memory_limit_mb: 90 },
    });
    expect((await policies()).old).toMatchObject({ overridden: [], shadowed: {} });
  });

  it("a later edit of config.toml applies its other keys, and the reload event says what the override shadows", async () => {
    const reloaded = await saveConfig(config(100, "always", 30));
    expect(reloaded.message).toContain("process.web.memory_limit_mb: 100 in config.toml is overridden by 120 set over D-Bus");
    expect(reloaded.shadowed).toEqual(["process.web.memory_limit_mb: 100 in config.toml is overridden by 120 set over D-Bus"]);
    expect((await policies()).web).toMatchObject({ memory_limit_mb: 120, restart: "always", cooldown: { pause: 30 } });
    expect(await processOf(client, "web")).toMatchObject({ memory_limit_bytes: 120 * 1024 * 1024 });
  });

  it("the CLI adds a key to the override (the earlier one stays), and shows both with config.toml's values", async () => {
    const set = await selfheal(box.bus, ["policy", "set", "web", "cpu_limit=50", "cooldown.pause=45"]);
    expect(set).toMatchObject({ code: 0, stderr: "" });
    expect(overridesFile()).toMatchObject({ policies: { web: { set: { memory_limit_mb: 120, cpu_limit: 50, cooldown: { pause: 45 } } } } });
    const get = await selfheal(box.bus, ["policy", "get", "web"]);
    expect(get.stdout).toContain("memory_limit_mb = 120  # set over D-Bus; config.toml says 100\n");
    expect(get.stdout).toContain("cpu_limit = 50  # set over D-Bus\n");
    expect(get.stdout).toContain('restart = "always"\n');
    expect(get.stdout).toContain("cooldown = { max_restarts = 3, window = 60, pause = 45 }  # pause set over D-Bus; config.toml says 30\n");
    expect(get.stdout).toContain('selfheal policy reset web');
    const status = await selfheal(box.bus, ["status", "web"]);
    expect(status.stdout).toContain("override: memory_limit_mb = 120 set over D-Bus; config.toml says 100\n");
    expect(status.stdout).toContain("override: cpu_limit = 50 set over D-Bus\n");
    expect(status.stdout).toContain("override: cooldown.pause = 45 set over D-Bus; config.toml says 30\n");
  });

  it("KEY= takes a key away whatever config.toml says; policy reset NAME KEY gives it back to config.toml", async () => {
    const removed = await selfheal(box.bus, ["policy", "set", "web", "memory_limit_mb="]);
    expect(removed).toMatchObject({ code: 0, stderr: "" });
    expect(removed.stdout).toContain("# memory_limit_mb: left out over D-Bus; config.toml says 100\n");
    expect(await processOf(client, "web")).toMatchObject({ memory_limit_bytes: 0 });
    expect((await policies()).web).toMatchObject({ overridden: ["cooldown.pause", "cpu_limit", "memory_limit_mb"] });
    const back = await selfheal(box.bus, ["policy", "reset", "web", "memory_limit_mb"]);
    expect(back).toMatchObject({ code: 0, stderr: "" });
    expect(await processOf(client, "web")).toMatchObject({ memory_limit_bytes: 100 * 1024 * 1024 });
    expect((await policies()).web).toMatchObject({ overridden: ["cooldown.pause", "cpu_limit"], shadowed: { "cooldown.pause": 30 } });
  });

  it("a whole policy sent back as GetPolicies gives it (the old way) stores only what differs from config.toml", async () => {
    const [all] = await client.call("GetPolicies");
    const record = (all as Record<string, Record<string, unknown>>).web!;
    await client.call("SetPolicy", "sa{sv}", ["web", record]);
    expect(overridesFile()).toMatchObject({ policies: { web: { set: { cpu_limit: 50, cooldown: { pause: 45 } } } } });
    expect(Object.keys((overridesFile().policies as Record<string, { set: object }>).web!.set).sort()).toEqual(["cooldown", "cpu_limit"]);
  });
});

describe.skipIf(problem !== null)("a config.toml policy removed over D-Bus", () => {
  it("is hidden, and says so: GetHiddenPolicies, the reload event, status and policy get", async () => {
    expect(await call("RemovePolicy", "s", "old")).toMatchObject({ code: 0, stderr: "" });
    expect(Object.keys(await policies())).not.toContain("old");
    const [hidden] = await client.call("GetHiddenPolicies");
    expect(plain(hidden)).toMatchObject({ old: { command: [old, "600"] } });
    const reloaded = await saveConfig(config(100, "always", 30).replace(`"${old}", "600"`, `"${old}", "900"`));
    expect(reloaded.message).toContain("process.old in config.toml is hidden: removed over D-Bus (selfheal policy reset old brings it back)");
    const status = await selfheal(box.bus, ["status", "old"]);
    expect(status.code).toBe(1);
    expect(status.stderr).toBe(
      'selfheal: no policy named "old": config.toml has one, but it was removed over D-Bus; "selfheal policy reset old" (ResetPolicy) brings it back (UnknownProcess)\n',
    );
    const get = await selfheal(box.bus, ["policy", "get"]);
    expect(get.stdout).toContain('# [process.old] of config.toml is hidden: removed over D-Bus; "selfheal policy reset old" brings it back\n');
  });

  it("ResetPolicy brings it back as config.toml has it now", async () => {
    expect(await call("ResetPolicy", "s", "old")).toMatchObject({ code: 0, stderr: "" });
    expect((await policies()).old).toMatchObject({ command: [old, "900"], overridden: [] });
    expect(overridesFile()).toMatchObject({ removed: [] });
  });
});

describe.skipIf(problem !== null)("the way back", () => {
  it("selfheal policy reset NAME drops the override: config.toml alone applies, and the file no longer holds it", async () => {
    const reset = await selfheal(box.bus, ["policy", "reset", "web"]);
    expect(reset).toMatchObject({ code: 0, stderr: "" });
    expect(reset.stdout).toContain("web: back to config.toml");
    expect((await policies()).web).toMatchObject({ memory_limit_mb: 100, cooldown: { pause: 30 }, overridden: [], shadowed: {} });
    expect(overridesFile()).toEqual({ version: 2, policies: {}, removed: [] });
  });

  it("ResetPolicy of a policy set only over D-Bus removes it; of an unknown name is UnknownProcess", async () => {
    await call("SetPolicy", "sa{sv}", "extra", "1", "command", "as", "2", web, "5");
    expect(Object.keys(await policies())).toContain("extra");
    await call("ResetPolicy", "s", "extra");
    expect(Object.keys(await policies())).not.toContain("extra");
    const error = await errorOf(client.call("ResetPolicy", "s", ["nothing"]));
    expect(error.type).toBe("io.github.SelfHeal1.Error.UnknownProcess");
    expect(error.text).toMatch(/^no policy, override or removal named "nothing"; watched programs: [\w.@+-]+(, [\w.@+-]+)*$/);
  });
});

describe.skipIf(problem !== null)("an overrides.json of whole policies (the earlier format)", () => {
  it("is migrated at start: the same policies in force, only what differs from config.toml kept, the old file kept aside", async () => {
    client.close();
    for (const pid of box.daemonPids()) process.kill(pid, "SIGTERM");
    await waitUntil(() => box.daemonPids().length === 0, DEFAULT_WAIT_MS, () => "the daemon did not stop");
    // What SetPolicy wrote before: web whole, with its memory limit changed to 150; extra added.
    const whole = (memory: number) => ({
      command: [web, "600"], match: "web-server", memory_limit_mb: memory, scope: "tree", sustain: 2, on_violation: "restart", restart: "always",
      autostart: false, cooldown: { max_restarts: 3, window: 60, pause: 30 }, stop_timeout: 5, env: {},
    });
    const earlier = { set: { web: whole(150), extra: { ...whole(64), command: [web, "7"], match: "web-server", restart: "on-failure" } }, removed: [] };
    mkdirSync(box.stateDir, { recursive: true });
    writeFileSync(join(box.stateDir, "overrides.json"), JSON.stringify(earlier));
    await box.startDaemon();
    client = await connectClient(box.bus);
    expect(await policies()).toMatchObject({
      web: { memory_limit_mb: 150, restart: "always", cooldown: { max_restarts: 3, window: 60, pause: 30 }, overridden: ["memory_limit_mb"] },
      extra: { command: [web, "7"], memory_limit_mb: 64, restart: "on-failure" },
    });
    expect(overridesFile()).toEqual({
      version: 2,
      policies: { web: { set: { memory_limit_mb: 150 } }, extra: { set: { command: [web, "7"], memory_limit_mb: 64, cooldown: { max_restarts: 3, pause: 30 } } } },
      removed: [],
    });
    expect(readdirSync(box.stateDir).filter((name) => name.startsWith("overrides.json.v1"))).toHaveLength(1);
    expect(box.daemonLog()).toContain("overrides.json held whole policies (the earlier format): kept only the keys that differ from config.toml");
    // config.toml's edits now reach web again.
    const reloaded = await saveConfig(config(100, "on-failure", 30));
    expect(reloaded.shadowed).toEqual(["process.web.memory_limit_mb: 100 in config.toml is overridden by 150 set over D-Bus"]);
    expect((await policies()).web).toMatchObject({ restart: "on-failure" });
  });
});
