// A policy removed over D-Bus leaves its program running; set again before the
// next scan, it must adopt that program, not start a second one. (The scan
// before the removal predates the program, so adoption has to look afresh.)
// Found by the kill -9 fault-injection test (test/state/killDuringWrites.test.ts).
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processOf, programsIn, startScene, testProgram, waitForProcess, type BusClient, type Scene } from "../helpers/bus.js";

const { Variant } = dbus;
const TAG = Math.random().toString(16).slice(2, 6);
let dir: string;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  // Scans 10 s apart: the set, remove and set again all fall between two scans.
  ({ dir, client, close } = await startScene({ prefix: "readd", config: "[settings]\ninterval = 10\n" }));
});

afterAll(() => close?.());

describe("a policy removed and set again between two scans", () => {
  it("adopts the program it left running instead of starting a second one", async () => {
    const program = testProgram(dir, `sbreadd-${TAG}`);
    const policy = { command: new Variant("as", [program, "600"]), autostart: new Variant("b", true) };
    await client.call("SetPolicy", "sa{sv}", ["dyn", policy]);
    const { pid } = await waitForProcess(client, "dyn", (record) => record.pid > 0);
    await client.call("RemovePolicy", "s", ["dyn"]);
    await client.call("SetPolicy", "sa{sv}", ["dyn", policy]);
    const record = await processOf(client, "dyn");
    expect(record.pid).toBe(pid);
    expect(programsIn(dir)).toEqual([pid]);
  });
});
