// Bad calls get error replies a person can act on, and never crash the
// daemon or change its state: wrong types, unknown keys, absurd values,
// megabyte strings, odd names.
import { existsSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUS_NAME,
  busctl,
  errorOf,
  gdbus,
  MANAGER_INTERFACE,
  OBJECT_PATH,
  plain,
  startScene,
  type BusClient,
  type PrivateBus,
  type Scene,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const { Variant } = dbus;
const ERR = "io.github.SelfHeal1.Error.";
const INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs";
const MEGABYTE = "x".repeat(1024 * 1024);
const TAG = Math.random().toString(16).slice(2, 6);
let bus: PrivateBus;
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];
let policiesBefore: unknown;

const setPolicy = (name: string, policy: Record<string, InstanceType<typeof Variant>>) => client.call("SetPolicy", "sa{sv}", [name, policy]);

beforeAll(async () => {
  ({ bus, daemon, client, close } = await startScene({
    prefix: "err",
    programs: { program: `sberr-${TAG}` },
    config: ({ program }, dir) => `# my hand-written config\n[process.worker]\ncommand = ["${program}", "600"]\n\n[process.ghost]\ncommand = ["${dir}/no-such-program"]\n`,
  }));
  policiesBefore = plain(await client.call("GetPolicies"));
});

afterAll(() => close?.());

describe("ill-typed calls get InvalidArgs", () => {
  it.each([
    ["StartProcess", "i", [5]],
    ["StartProcess", "", []],
    ["StopProcess", "ss", ["worker", "extra"]],
    ["GetEvents", "ut", [5, 0n]],
    ["SetPolicy", "ss", ["worker", "command"]],
    ["ListProcesses", "s", ["surprise"]],
  ])("%s with signature (%s)", async (member, signature, body) => {
    const error = await errorOf(client.call(member, signature, body));
    expect(error.type).toBe(INVALID_ARGS);
    expect(error.text).toMatch(new RegExp(`^${member} takes \\(.*\\), got \\(${signature}\\)$`));
  });

  it.each([
    ["an empty string", ""],
    ["a path", "../../etc/passwd"],
    ["spaces and punctuation", "bad name!"],
    ["control and bidi characters", "a\u0001\u202eb"],
  ])("a process name that is %s", async (_what, name) => {
    const error = await errorOf(client.call("GetProcess", "s", [name]));
    expect(error.type).toBe(INVALID_ARGS);
    expect(error.text).toMatch(/process name must be 1 to 64 letters/);
  });

  it("a megabyte name is refused without being echoed whole", async () => {
    const error = await errorOf(client.call("StopProcess", "s", [MEGABYTE]));
    expect(error.type).toBe(INVALID_ARGS);
    expect(error.text.length).toBeLessThan(300);
    expect(error.text).toContain("1048576 characters");
  });

  it("oversized, deeply nested or binary policy values", async () => {
    expect((await errorOf(setPolicy("big", { cwd: new Variant("s", MEGABYTE) }))).type).toBe(INVALID_ARGS);
    let deep: InstanceType<typeof Variant> = new Variant("s", "x");
    for (let i = 0; i < 20; i++) deep = new Variant("v", deep);
    expect((await errorOf(setPolicy("deep", { command: deep }))).text).toMatch(/nested more than/);
    expect((await errorOf(setPolicy("bytes", { match: new Variant("ay", Buffer.from("abc")) }))).text).toMatch(/byte array/);
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`K${i}`, new Variant("s", "v")]));
    expect((await errorOf(setPolicy("many", { env: new Variant("a{sv}", many) }))).text).toMatch(/2000 entries/);
  });
});

describe("the engine's and the config's errors", () => {
  it("unknown names: UnknownProcess, naming the watched programs", async () => {
    for (const member of ["GetProcess", "StartProcess", "StopProcess", "RestartProcess", "ResetCooldown", "RemovePolicy"]) {
      const error = await errorOf(client.call(member, "s", ["nope"]));
      expect(error.type, member).toBe(`${ERR}UnknownProcess`);
      expect(error.text, member).toMatch(/^no program named "nope"; watched programs: [\w.@+-]+(, [\w.@+-]+)*$/);
    }
  });

  it.each([
    ["a negative limit", { memory_limit_mb: new Variant("d", -5) }, /memory_limit_mb/],
    ["an absurd limit", { memory_limit_mb: new Variant("d", 1e300) }, /memory_limit_mb/],
    ["a 64-bit limit", { memory_limit_mb: new Variant("t", 2n ** 64n - 1n) }, /memory_limit_mb/],
    ["a wrong type", { cpu_limit: new Variant("s", "lots") }, /cpu_limit: expected a number/],
    ["an unknown key", { memory_limt_mb: new Variant("d", 5) }, /memory_limt_mb/],
    ["an empty command", { command: new Variant("as", []) }, /command/],
    ["a bad regex", { match: new Variant("s", "/([/") }, /match: is not a valid regular expression/],
    ["an unknown restart mode", { restart: new Variant("s", "sometimes") }, /restart/],
    ["a fractional sustain", { sustain: new Variant("d", 2.5) }, /sustain/],
    ["an env name with =", { env: new Variant("a{ss}", { "A=B": "x" }) }, /env/],
    ["a negative cooldown", { cooldown: new Variant("a{sv}", { max_restarts: new Variant("i", -1) }) }, /cooldown\.max_restarts/],
  ])("%s: InvalidPolicy naming the key", async (_what, policy, pattern) => {
    const error = await errorOf(setPolicy("newone", policy));
    expect(error.type).toBe(`${ERR}InvalidPolicy`);
    expect(error.text).toMatch(/^SetPolicy: process\.newone/);
    expect(error.text).toMatch(pattern);
  });

  it("a program that cannot start: Failed, and Health turns critical", async () => {
    const error = await errorOf(client.call("StartProcess", "s", ["ghost"]));
    expect(error).toEqual({ type: `${ERR}Failed`, text: "ghost could not be started; see the event log" });
    const [health] = await client.callOn("org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER_INTERFACE, "Health"]);
    expect(plain(health)).toBe("critical");
    await client.call("StopProcess", "s", ["ghost"]);
    const [after] = await client.callOn("org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER_INTERFACE, "Health"]);
    expect(plain(after)).toBe("ok");
  });

  it("a policy name that config.toml would refuse: InvalidPolicy; a megabyte one is not echoed whole", async () => {
    const odd = await errorOf(setPolicy("../../etc", {}));
    expect(odd.type).toBe(`${ERR}InvalidPolicy`);
    expect(odd.text).toMatch(/invalid name/);
    const huge = await errorOf(setPolicy(MEGABYTE, {}));
    expect(huge.type).toBe(`${ERR}InvalidPolicy`);
    expect(huge.text.length).toBeLessThan(5000);
  });

  it("a '__proto__' key is refused, not silently dropped", async () => {
    const error = await errorOf(setPolicy("proto", { ["__proto__"]: new Variant("s", "x") } as never));
    expect(error).toEqual({ type: INVALID_ARGS, text: `a dict has a key named "__proto__", which is not allowed` });
  });
});

describe("the standard interfaces", () => {
  it("unknown members, interfaces, objects and properties", async () => {
    expect((await errorOf(client.call("Frobnicate"))).type).toBe("org.freedesktop.DBus.Error.UnknownMethod");
    expect((await errorOf(client.callOn("org.example.Other", "ListProcesses"))).type).toBe("org.freedesktop.DBus.Error.UnknownInterface");
    const elsewhere = client.bus.call(new dbus.Message({ destination: BUS_NAME, path: `${OBJECT_PATH}/child`, interface: MANAGER_INTERFACE, member: "ListProcesses" }));
    expect((await errorOf(elsewhere)).type).toBe("org.freedesktop.DBus.Error.UnknownObject");
    const props = "org.freedesktop.DBus.Properties";
    expect((await errorOf(client.callOn(props, "Get", "ss", [MANAGER_INTERFACE, "Nope"]))).type).toBe("org.freedesktop.DBus.Error.UnknownProperty");
    expect((await errorOf(client.callOn(props, "Get", "ss", ["org.example.Other", "Health"]))).type).toBe(INVALID_ARGS);
    expect((await errorOf(client.callOn(props, "Set", "ssv", [MANAGER_INTERFACE, "Health", new Variant("s", "ok")]))).type).toBe(
      "org.freedesktop.DBus.Error.PropertyReadOnly",
    );
    expect((await errorOf(client.callOn(props, "Get", "s", [MANAGER_INTERFACE]))).type).toBe(INVALID_ARGS);
  });

  it("a call without an interface name finds the Manager's method", async () => {
    const reply = await client.bus.call(new dbus.Message({ destination: BUS_NAME, path: OBJECT_PATH, member: "ListProcesses" }));
    expect((plain(reply?.body[0]) as unknown[]).length).toBe(2);
  });
});

describe("as a user sees them", () => {
  it("gdbus shows our error names; busctl the message", async () => {
    const unknown = await gdbus(bus, ["call", "--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH, "--method", `${MANAGER_INTERFACE}.GetProcess`, "nope"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("GDBus.Error:io.github.SelfHeal1.Error.UnknownProcess");
    const invalid = await busctl(bus, ["call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "SetPolicy", "sa{sv}", "worker", "1", "memory_limit_mb", "s", "lots"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain("SetPolicy: process.worker.memory_limit_mb: expected a number");
  });
});

describe("after all that", () => {
  it("the daemon still runs, answers, and kept its state", async () => {
    expect(daemon.process.exitCode).toBeNull();
    expect(plain(await client.call("GetPolicies"))).toEqual(policiesBefore);
    expect(existsSync(join(daemon.stateDir, "overrides.json"))).toBe(false);
    const [processes] = await client.call("ListProcesses");
    expect((plain(processes) as Array<{ name: string }>).map((p) => p.name).sort()).toEqual(["ghost", "worker"]);
    expect(daemon.stderr()).not.toMatch(/TypeError|ReferenceError|failed:/);
  });
});
