// Never fall, on the bus: a bug that escapes every handler inside the daemon
// (an unhandled rejection, an uncaught exception) is logged with its stack and
// recorded as an internal-error event; the daemon keeps serving and ends with
// status 0 when asked to stop.
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAST_SETTINGS, plain, startScene, waitUntil, type BusClient, type Scene, type SelfhealDaemon } from "../helpers/bus.js";

const INJECTOR = resolve(import.meta.dirname, "../fixtures/escape-errors.mjs");
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  ({ daemon, client, close } = await startScene({
    prefix: "fall",
    config: () => FAST_SETTINGS,
    daemon: { env: { NODE_OPTIONS: `--import=${INJECTOR}` } },
  }));
});

afterAll(async () => {
  await close?.();
});

async function internalErrors(): Promise<Array<{ where: string; error: string; message: string }>> {
  const [events] = await client.call("GetEvents", "tu", [0n, 0]);
  return (plain(events) as Array<{ kind: string; where: string; error: string; message: string }>).filter((event) => event.kind === "internal-error");
}

describe("an error that escapes every handler", () => {
  it("is logged with its stack and recorded as internal-error; the daemon answers on and stops with status 0", async () => {
    process.kill(daemon.pid, "SIGUSR2");
    let found: Array<{ where: string; error: string; message: string }> = [];
    await waitUntil(async () => (found = await internalErrors()).length === 2, 15_000, () => `internal-error events: ${JSON.stringify(found)}\nstderr:\n${daemon.stderr()}`);
    expect(found.map((event) => event.where).sort()).toEqual(["uncaught exception", "unhandled rejection"]);
    expect(found.find((event) => event.where === "unhandled rejection")!.error).toMatch(/^Error: injected unhandled rejection\n\s+at /);
    expect(found.find((event) => event.where === "uncaught exception")!.message).toBe("internal error (uncaught exception): injected uncaught exception; selfheal carries on");
    expect(daemon.stderr()).toContain("selfheal: internal error (unhandled rejection), carrying on:\nError: injected unhandled rejection\n    at ");
    // Still serving, still the same process.
    const [records] = await client.call("ListProcesses");
    expect(records).toEqual([]);
    expect(daemon.process.exitCode).toBeNull();
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
