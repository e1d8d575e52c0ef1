// The service as users see it: what Introspect serves against the XML file,
// and every method driven with busctl, gdbus and a dbus-next client.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInterfaceXml, type InterfaceSpec } from "../../daemon/bus/introspection.js";
import {
  BUS_NAME,
  busctl,
  FAST_SETTINGS,
  gdbus,
  INTERFACE_XML,
  MANAGER_INTERFACE,
  OBJECT_PATH,
  plain,
  PROCESS_RECORD_TYPES,
  processOf,
  REPO,
  startScene,
  typesOf,
  waitForProcess,
  waitUntil,
  type BusClient,
  type PrivateBus,
  type Scene,
} from "../helpers/bus.js";

const TAG = Math.random().toString(16).slice(2, 6);
const EDITOR = `sbsvc-ed${TAG}`;
const IDLE = `sbsvc-id${TAG}`;
let bus: PrivateBus;
let client: BusClient;
let close: Scene["close"];
const file: InterfaceSpec = parseInterfaceXml(readFileSync(INTERFACE_XML, "utf8"), MANAGER_INTERFACE);
const call = (...args: string[]) => busctl(bus, ["call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, ...args]);
const callJson = async (...args: string[]): Promise<{ type: string; data: unknown[] }> => {
  const result = await busctl(bus, ["--json=short", "call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, ...args]);
  expect(result.stderr).toBe("");
  return JSON.parse(result.stdout) as { type: string; data: unknown[] };
};

beforeAll(async () => {
  ({ bus, client, close } = await startScene({
    prefix: "svc",
    programs: { editor: EDITOR, idle: IDLE },
    config: ({ editor, idle }) => `${FAST_SETTINGS}
[process.editor]
command = ["${editor}", "600"]
autostart = true
memory_limit_mb = 800
cpu_limit = 90

[process.idle]
command = ["${idle}", "600"]
`,
  }));
  await waitForProcess(client, "editor", (record) => record.pid > 0 && record.rss_bytes > 0);
});

afterAll(() => close?.());

describe("introspection", () => {
  it("serves exactly the XML file's interface, member by member (read back through GLib's gdbus)", async () => {
    const result = await gdbus(bus, ["introspect", "--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH, "--xml"]);
    expect(result.code).toBe(0);
    const served = parseInterfaceXml(result.stdout, MANAGER_INTERFACE);
    expect([...served.methods.keys()].sort()).toEqual([...file.methods.keys()].sort());
    expect([...served.signals.keys()].sort()).toEqual([...file.signals.keys()].sort());
    expect([...served.properties.keys()].sort()).toEqual([...file.properties.keys()].sort());
    for (const [name, method] of file.methods) expect(served.methods.get(name), name).toEqual(method);
    for (const [name, signal] of file.signals) expect(served.signals.get(name), name).toEqual(signal);
    for (const [name, property] of file.properties) expect(served.properties.get(name), name).toEqual(property);
    expect(served.annotations).toEqual(file.annotations);
  });

  it("busctl introspect lists each method with the file's signatures", async () => {
    const result = await busctl(bus, ["introspect", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE]);
    expect(result.code).toBe(0);
    const rows = new Map(
      result.stdout
        .split("\n")
        .filter((line) => line.startsWith("."))
        .map((line) => {
          const [member = "", kind = "", signature = "", value = ""] = line.split(/\s+/);
          return [member.slice(1), { kind, signature, value }] as const;
        }),
    );
    for (const method of file.methods.values()) {
      expect(rows.get(method.name), method.name).toEqual({ kind: "method", signature: method.inSignature || "-", value: method.outSignature || "-" });
    }
    for (const signal of file.signals.values()) expect(rows.get(signal.name)?.signature, signal.name).toBe(signal.signature || "-");
  });

  it("busctl tree finds the object under /", async () => {
    const result = await busctl(bus, ["tree", BUS_NAME]);
    expect(result.stdout).toContain(OBJECT_PATH);
  });

  it("dbus-next builds a proxy from Introspect and calls through it", async () => {
    const manager = await client.manager();
    for (const name of file.methods.keys()) expect(typeof manager[name], name).toBe("function");
    const processes = plain(await manager.ListProcesses!()) as Array<{ name: string }>;
    expect(processes.map((p) => p.name).sort()).toEqual(["editor", "idle"]);
  });
});

describe("methods", () => {
  it("ListProcesses gives one record per policy with the contract's keys and types (busctl --json)", async () => {
    const reply = await callJson("ListProcesses");
    expect(reply.type).toBe("aa{sv}");
    const records = reply.data[0] as Array<Record<string, { type: string; data: unknown }>>;
    expect(records).toHaveLength(2);
    const editor = records.find((r) => r.name?.data === "editor")!;
    const types = Object.fromEntries(Object.entries(editor).map(([key, value]) => [key, value.type]));
    expect(types).toMatchObject(PROCESS_RECORD_TYPES);
    expect(editor.state!.data).toBe("running");
    expect(editor.managed!.data).toBe(true);
    expect(editor.memory_limit_bytes!.data).toBe(800 * 1024 * 1024);
    expect(editor.cpu_limit!.data).toBe(90);
    expect(Number(editor.rss_bytes!.data)).toBeGreaterThan(0);
    const idle = records.find((r) => r.name?.data === "idle")!;
    expect(idle.pid!.data).toBe(0);
    expect(idle.state!.data).toBe("stopped");
    expect(idle.memory_limit_bytes!.data).toBe(0);
  });

  it("GetProcess through gdbus, as GVariant text", async () => {
    const result = await gdbus(bus, ["call", "--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH, "--method", `${MANAGER_INTERFACE}.GetProcess`, "editor"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/'name': <'editor'>/);
    expect(result.stdout).toMatch(/'pid': <uint32 [1-9]\d*>/);
    expect(result.stdout).toMatch(/'rss_bytes': <uint64 \d+>/);
  });

  it("StopProcess stops it for good, StartProcess starts it, RestartProcess gives a new PID", async () => {
    const pidOf = async (): Promise<number> => (await processOf(client, "editor")).pid;
    const first = await pidOf();
    expect((await call("StopProcess", "s", "editor")).code).toBe(0);
    expect(await processOf(client, "editor")).toMatchObject({ pid: 0, state: "stopped" });
    await waitUntil(() => !isAlive(first), 5000, () => `PID ${first} still runs after StopProcess`);
    await new Promise((r) => setTimeout(r, 600)); // three scans: nothing restarts it
    expect(await pidOf()).toBe(0);

    expect((await call("StartProcess", "s", "editor")).code).toBe(0);
    const started = await pidOf();
    expect(started).toBeGreaterThan(0);
    expect(isAlive(started)).toBe(true);

    expect((await call("RestartProcess", "s", "editor")).code).toBe(0);
    const restarted = await pidOf();
    expect(restarted).toBeGreaterThan(0);
    expect(restarted).not.toBe(started);
    await waitUntil(() => !isAlive(started), 5000, () => `PID ${started} still runs after RestartProcess`);
  });

  it("StartProcess on a running process is a no-op, not an error", async () => {
    const before = (await processOf(client, "editor")).pid;
    await client.call("StartProcess", "s", ["editor"]);
    expect((await processOf(client, "editor")).pid).toBe(before);
  });

  it("GetCooldowns, ResetCooldown, ListAnomalies and ListZombies answer with their types", async () => {
    const cooldowns = await callJson("GetCooldowns");
    expect(cooldowns.type).toBe("aa{sv}");
    expect((await call("ResetCooldown", "s", "editor")).code).toBe(0);
    const anomalies = await callJson("ListAnomalies");
    expect(anomalies).toEqual({ type: "aa{sv}", data: [[]] });
    const zombies = await client.call("ListZombies");
    for (const zombie of zombies[0] as Array<Record<string, unknown>>) {
      expect(typesOf(zombie)).toMatchObject({ pid: "u", ppid: "u", name: "s", parent_name: "s", age: "d" });
    }
  });

  it("GetEvents returns the history oldest first, honours since and limit", async () => {
    const [all] = (await client.call("GetEvents", "tu", [0n, 0])) as [Array<Record<string, unknown>>];
    expect(all.length).toBeGreaterThanOrEqual(4);
    expect(typesOf(all[0]!)).toMatchObject({ time_usec: "t", kind: "s", process: "s", pid: "u", message: "s" });
    const times = all.map((event) => plain(event.time_usec) as number);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const kinds = all.map((event) => plain(event.kind));
    expect(kinds).toEqual(expect.arrayContaining(["started", "stopped", "restarted"]));
    const [last2] = (await client.call("GetEvents", "tu", [0n, 2])) as [unknown[]];
    expect(plain(last2)).toEqual(plain(all.slice(-2)));
    const future = BigInt(Date.now() + 3_600_000) * 1000n;
    expect(await client.call("GetEvents", "tu", [future, 0])).toEqual([[]]);
    const result = await call("GetEvents", "tu", "0", "3");
    expect(result.stdout).toMatch(/^aa\{sv\} 3 /);
  });

  it("GetPolicies shows the effective policies with config.toml's keys", async () => {
    const [policies] = (await client.call("GetPolicies")) as [Record<string, Record<string, unknown>>];
    expect(Object.keys(policies).sort()).toEqual(["editor", "idle"]);
    expect(typesOf(policies.editor!)).toMatchObject({ command: "as", match: "s", memory_limit_mb: "d", cpu_limit: "d", autostart: "b", cooldown: "a{sv}", env: "a{ss}" });
    expect(plain(policies.editor)).toMatchObject({ memory_limit_mb: 800, autostart: true, restart: "on-failure", cooldown: { max_restarts: 5, window: 60, pause: 120 } });
  });

  it("properties: Version from package.json, the counts, Health", async () => {
    const version = (JSON.parse(readFileSync(`${REPO}/package.json`, "utf8")) as { version: string }).version;
    const [all] = await client.callOn("org.freedesktop.DBus.Properties", "GetAll", "s", [MANAGER_INTERFACE]);
    expect(plain(all)).toMatchObject({ Version: version, Health: "ok", WatchedCount: 2, CooldownCount: 0, AnomalyCount: 0 });
    const health = await busctl(bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "Health"]);
    expect(health.stdout.trim()).toBe('s "ok"');
    const watched = await busctl(bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "WatchedCount"]);
    expect(watched.stdout.trim()).toBe("u 2");
  });

  it("Peer.Ping answers", async () => {
    expect(await client.callOn("org.freedesktop.DBus.Peer", "Ping")).toEqual([]);
  });
});

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
