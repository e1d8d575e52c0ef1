// One daemon per session bus: a second one exits with a message and a
// non-zero status before starting anything, and never takes over.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  BUS_NAME,
  DEFAULT_WAIT_MS,
  killProgramsIn,
  ownerPidOf,
  plain,
  programsIn,
  startPrivateBus,
  startScene,
  startSelfheal,
  testProgram,
  type BusClient,
  type PrivateBus,
  type Scene,
  type SelfhealDaemon,
  waitUntil,
} from "../helpers/bus.js";

const TAG = Math.random().toString(16).slice(2, 6);
const EXIT_NAME_TAKEN = 3;
let dir: string;
let bus: PrivateBus;
let client: BusClient;
let close: Scene["close"];
const daemons: SelfhealDaemon[] = [];
const extraBuses: PrivateBus[] = [];

// One policy; started at once unless `autostart` is false (a daemon that ends by itself must leave no program behind).
function config(program: string, autostart = true, restart = "on-failure"): string {
  return `[process.solo]\ncommand = ["${program}", "600"]\nautostart = ${autostart}\nrestart = "${restart}"\n`;
}

beforeAll(async () => {
  ({ dir, bus, client, close } = await startScene({ prefix: "own", config: false }));
});

afterEach(async () => {
  // Every daemon stops before the programs are killed: killed under a daemon still running, a
  // program is restarted, and the wait for none left can run to its deadline (seen once: 45 s).
  // Newest first: a later daemon may run on an earlier one's folders.
  for (const daemon of daemons.splice(0).reverse()) await daemon.cleanup();
  killProgramsIn(dir);
  await waitUntil(() => programsIn(dir).length === 0, DEFAULT_WAIT_MS, () => `programs of ${dir} still run: ${programsIn(dir).join(", ")}`);
  for (const extra of extraBuses.splice(0)) await extra.stop();
});

afterAll(() => close?.());

describe("name ownership", () => {
  it("a second daemon exits 3 with a clear message, starts nothing, and the first keeps the name", async () => {
    const first = await startSelfheal(bus, { config: config(testProgram(dir, `sbown-a${TAG}`)) });
    daemons.push(first);
    const secondProgram = testProgram(dir, `sbown-b${TAG}`);
    const second = await startSelfheal(bus, { config: config(secondProgram), waitUntilReady: false });
    daemons.push(second);
    const ended = await second.exited;
    expect(ended.code).toBe(EXIT_NAME_TAKEN);
    expect(second.stderr()).toContain(`another selfheal daemon (PID ${first.pid}) already owns ${BUS_NAME} on this session bus`);
    expect(second.stderr()).not.toContain("selfheal: watching");
    expect(programsIn(dir).filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === `sbown-b${TAG}`)).toEqual([]);
    expect(existsSync(join(second.stateDir, "events.jsonl")) ? readFileSync(join(second.stateDir, "events.jsonl"), "utf8") : "").not.toContain('"started"');

    expect(await ownerPidOf(client.bus)).toBe(first.pid);
    expect(first.process.exitCode).toBeNull();
    const [processes] = await client.call("ListProcesses");
    expect((plain(processes) as Array<{ name: string; pid: number }>)[0]).toMatchObject({ name: "solo" });
  });

  it("once the first stops (exit 0) the name is free for a new daemon", async () => {
    const first = await startSelfheal(bus, { config: config(testProgram(dir, `sbown-c${TAG}`), false) });
    daemons.push(first);
    expect(await first.stop()).toEqual({ code: 0, signal: null });
    expect(first.stderr()).toContain("SIGTERM received, stopping; watched programs keep running");
    const next = await startSelfheal(bus, { root: first.root });
    daemons.push(next);
    expect(await ownerPidOf(client.bus)).toBe(next.pid);
  });

  it("--no-bus runs the engine without taking the name", async () => {
    // Not reachable over the bus: its program must not come back when the cleanup kills it.
    const offline = await startSelfheal(bus, { config: config(testProgram(dir, `sbown-d${TAG}`), true, "never"), args: ["--no-bus"], waitUntilReady: false });
    daemons.push(offline);
    const online = await startSelfheal(bus, { config: config(testProgram(dir, `sbown-e${TAG}`)) });
    daemons.push(online);
    expect(await ownerPidOf(client.bus)).toBe(online.pid);
    expect(offline.process.exitCode).toBeNull();
  });
});

describe("without a usable bus", () => {
  it("an address nobody listens on: exit 1 with the address in the message", async () => {
    const daemon = await startSelfheal(bus, { env: { DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, "no-such-socket")}` }, waitUntilReady: false });
    daemons.push(daemon);
    expect((await daemon.exited).code).toBe(1);
    expect(daemon.stderr()).toContain(`cannot connect to the session bus at unix:path=${join(dir, "no-such-socket")}`);
  });

  it("the bus goes away while serving: the daemon says so and exits 1", async () => {
    const doomed = await startPrivateBus();
    extraBuses.push(doomed);
    const daemon = await startSelfheal(doomed, { config: config(testProgram(dir, `sbown-f${TAG}`), false) });
    daemons.push(daemon);
    await doomed.stop();
    const ended = await daemon.exited;
    expect(ended.code).toBe(1);
    expect(daemon.stderr()).toContain("the connection to the session bus was closed; stopping");
  });
});
