// Oversized and malformed input for every D-Bus method that takes any: each
// gets an error reply a person can act on (never a success that drops part
// of the input, never a hang), the daemon keeps answering, nothing oversized
// is kept, and its resident memory comes back within a few MB once the calls stop.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseInterfaceXml } from "../../daemon/bus/introspection.js";
import {
  errorOf,
  INTERFACE_XML,
  MANAGER_INTERFACE,
  plain,
  startScene,
  waitUntil,
  type BusClient,
  type Scene,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const { Variant } = dbus;
type V = InstanceType<typeof Variant>;
const ERR = "io.github.SelfHeal1.Error.";
const INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs";
const KIB = 1024;
const MIB = KIB * KIB;
/** How far the daemon's resident memory may stay above where it was before the calls. */
const RSS_SLACK_BYTES = 5 * MIB;
const TAG = Math.random().toString(16).slice(2, 6);
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];
let rssBefore = 0;
let breakdownBefore = "";

// The daemon's resident set size, bytes.
function rssOf(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) * KIB;
}

// A dict whose own key is "__proto__" (an object literal would set its prototype instead).
function ownProto(value: V): Record<string, V> {
  const dict: Record<string, V> = {};
  Object.defineProperty(dict, "__proto__", { value, enumerable: true, configurable: true, writable: true });
  return dict;
}

// Where the daemon's memory is: the malloc heap and anonymous mappings (V8's heap among them), MB.
function memoryBreakdown(pid: number): string {
  let heap = 0;
  let anon = 0;
  let mapping = "";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mapping = line.split(/\s+/)[5] ?? "";
    const rss = /^Rss:\s+(\d+) kB/.exec(line)?.[1];
    if (rss === undefined) continue;
    if (mapping === "[heap]") heap += Number(rss);
    else if (mapping === "") anon += Number(rss);
  }
  return `malloc heap ${(heap / KIB).toFixed(1)} MB, anonymous ${(anon / KIB).toFixed(1)} MB`;
}

const setPolicy = (name: string, policy: Record<string, V>) => client.call("SetPolicy", "sa{sv}", [name, policy]);
const overridesPath = () => join(daemon.stateDir, "overrides.json");

beforeAll(async () => {
  ({ daemon, client, close } = await startScene({
    prefix: "lim",
    programs: { program: `sblim-${TAG}` },
    config: ({ program }) => `[process.worker]\ncommand = ["${program}", "600"]\n`,
  }));
  // Warm up every path once with well-formed calls, so that compiled code is not counted as growth.
  for (let round = 0; round < 200; round++) {
    await client.call("ListProcesses");
    await client.call("GetProcess", "s", ["worker"]);
    await errorOf(setPolicy("warm", { cpu_limit: new Variant("s", "lots") }));
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  rssBefore = rssOf(daemon.pid);
  breakdownBefore = memoryBreakdown(daemon.pid);
});

afterAll(() => close?.());

describe("SetPolicy: every cap, with a clear error and nothing kept", () => {
  const quotes = (length: number) => '"'.repeat(length);
  it.each<[string, Record<string, V>, string, RegExp]>([
    ["an env key __proto__ given as a{ss}", { env: new Variant("a{ss}", JSON.parse('{"__proto__":"x","OK":"y"}')) }, INVALID_ARGS, /^env has a key named "__proto__", which is not allowed$/],
    ["an env key __proto__ given as a{sv}", { env: new Variant("a{sv}", ownProto(new Variant("s", "x"))) }, INVALID_ARGS, /^env has a key named "__proto__", which is not allowed$/],
    ["an env key of 100 000 characters", { env: new Variant("a{ss}", { ["K".repeat(100_000)]: "v" }) }, INVALID_ARGS, /^env has a key of 100000 characters; at most 65536 are accepted$/],
    ["an env key of 300 characters", { env: new Variant("a{ss}", { ["K".repeat(300)]: "v" }) }, `${ERR}InvalidPolicy`, /env\.K+: invalid name "KKKK.*at most 255 characters$/],
    ["an env key with a space", { env: new Variant("a{ss}", { "MY VAR": "v" }) }, `${ERR}InvalidPolicy`, /invalid name "MY VAR": an environment variable name is letters, digits and _/],
    ["an env key with a newline", { env: new Variant("a{ss}", { "A\nB": "v" }) }, `${ERR}InvalidPolicy`, /invalid name "A\\nB"/],
    ["257 env variables", { env: new Variant("a{ss}", Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`V${i}`, "x"]))) }, `${ERR}InvalidPolicy`, /env: has 257 variables; at most 256/],
    ["300 arguments of 64 KiB (19 MB)", { command: new Variant("as", Array.from({ length: 300 }, () => "y".repeat(64 * KIB))) }, INVALID_ARGS, /holds more than 1048576 characters of text in all/],
    ["10 arguments of 20 KiB", { command: new Variant("as", ["x", ...Array.from({ length: 9 }, () => "y".repeat(20 * KIB))]) }, `${ERR}InvalidPolicy`, /command: is \d+ bytes with each argument's terminating NUL; at most 131072 \(128 KB\)/],
    ["a policy of more than 256 KiB as JSON", { command: new Variant("as", ["x", quotes(60 * KIB), quotes(60 * KIB)]), cwd: new Variant("s", "/tmp"), env: new Variant("a{ss}", { A: quotes(30 * KIB), B: quotes(30 * KIB) }) }, `${ERR}InvalidPolicy`, /process\.toolarge: is \d+ bytes as JSON; at most 262144 \(256 KB\)/],
    ["a match that would match every command line", { match: new Variant("s", "/.*/") }, `${ERR}InvalidPolicy`, /match: would match every command line/],
    ["a match with a backreference", { match: new Variant("s", "/(a)\\1/") }, `${ERR}InvalidPolicy`, /match: uses a backreference, which cannot be matched in linear time/],
    ["a cwd longer than PATH_MAX", { cwd: new Variant("s", `/${"d".repeat(5000)}`) }, `${ERR}InvalidPolicy`, /cwd: expected a path shorter than 4096 bytes/],
  ])("%s", async (_what, policy, type, text) => {
    const error = await errorOf(setPolicy("toolarge", policy));
    expect(error.type).toBe(type);
    expect(error.text).toMatch(text);
    expect(error.text.length).toBeLessThan(5000);
    expect(existsSync(overridesPath())).toBe(false);
  });

  it("a pathological but linear pattern is accepted, and removed again", async () => {
    await setPolicy("patho", { command: new Variant("as", ["/nonexistent/patho"]), match: new Variant("s", "/(a+)+$/") });
    await client.call("RemovePolicy", "s", ["patho"]);
  });
});

// An oversized value of each D-Bus type a method may take.
function oversized(type: string): unknown {
  switch (type) {
    case "s":
      return "n".repeat(MIB);
    case "u":
      return 0xffff_ffff;
    case "t":
      return 2n ** 64n - 1n;
    case "a{sv}":
      return Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`key${i}`, new Variant("s", "v".repeat(2 * KIB))]));
    default:
      throw new Error(`no oversized value for type ${type}: add one`);
  }
}

describe("every method with input, given oversized arguments", () => {
  const spec = parseInterfaceXml(readFileSync(INTERFACE_XML, "utf8"), MANAGER_INTERFACE);
  const methods = [...spec.methods.values()].filter((method) => method.inArgs.length > 0);
  /** Methods for which the largest values are legitimate: they answer, with a bounded reply. */
  const ANSWERS = new Set(["GetEvents"]);

  it.each(methods.map((method) => [method.name, method] as const))("%s", async (name, method) => {
    const body = method.inArgs.map((arg) => oversized(arg.type));
    const call = client.call(name, method.inSignature, body);
    if (ANSWERS.has(name)) {
      const [records] = await call;
      expect(Array.isArray(records)).toBe(true);
      return;
    }
    const error = await errorOf(call);
    expect([INVALID_ARGS, `${ERR}InvalidPolicy`, `${ERR}UnknownProcess`]).toContain(error.type);
    expect(error.text.length).toBeLessThan(5000);
  });

  it("Properties and Introspect with oversized or wrong arguments", async () => {
    const props = "org.freedesktop.DBus.Properties";
    expect((await errorOf(client.callOn(props, "Get", "ss", [MANAGER_INTERFACE, "n".repeat(MIB)]))).type).toBe("org.freedesktop.DBus.Error.UnknownProperty");
    expect((await errorOf(client.callOn(props, "GetAll", "s", ["n".repeat(MIB)]))).text.length).toBeLessThan(5000);
    expect((await errorOf(client.callOn(props, "Set", "ssv", [MANAGER_INTERFACE, "Health", new Variant("s", "n".repeat(MIB))]))).type).toBe(
      "org.freedesktop.DBus.Error.PropertyReadOnly",
    );
    expect((await errorOf(client.callOn("org.freedesktop.DBus.Introspectable", "Introspect", "s", ["n".repeat(MIB)]))).type).toBe(INVALID_ARGS);
  });
});

describe("afterwards", () => {
  it("the daemon answers, kept nothing oversized, and its RSS is back within a few MB", async () => {
    expect(daemon.process.exitCode).toBeNull();
    const [processes] = await client.call("ListProcesses");
    expect((plain(processes) as Array<{ name: string }>).map((p) => p.name)).toEqual(["worker"]);
    expect(Object.keys(plain((await client.call("GetPolicies"))[0]) as object)).toEqual(["worker"]);
    let rss = 0;
    await waitUntil(
      () => (rss = rssOf(daemon.pid)) <= rssBefore + RSS_SLACK_BYTES,
      30_000,
      () => `RSS stayed at ${(rss / MIB).toFixed(1)} MB (${memoryBreakdown(daemon.pid)}), ${((rss - rssBefore) / MIB).toFixed(1)} MB above the ${(rssBefore / MIB).toFixed(1)} MB before the calls (${breakdownBefore})`,
    );
  });

  it("a burst of 10 000 calls leaves RSS within a few MB of where it was", async () => {
    const before = rssOf(daemon.pid);
    const calls = [() => client.call("ListProcesses"), () => client.call("GetProcess", "s", ["worker"]), () => client.call("GetPolicies"), () => client.call("GetCooldowns")];
    for (let i = 0; i < 10_000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => calls[(i + j) % calls.length]!()));
    let rss = 0;
    await waitUntil(
      () => (rss = rssOf(daemon.pid)) <= before + RSS_SLACK_BYTES,
      30_000,
      () => `RSS stayed at ${(rss / MIB).toFixed(1)} MB, ${((rss - before) / MIB).toFixed(1)} MB above the ${(before / MIB).toFixed(1)} MB before the burst`,
    );
  });
});
