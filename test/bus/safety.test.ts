// Safety holds on the bus: whatever a caller asks, the daemon refuses with
// .Protected to signal its own ancestors, and never sees other users' processes.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  errorOf,
  FAST_SETTINGS,
  plain,
  processOf,
  selfheal,
  startScene,
  waitForProcess,
  type BusClient,
  type PrivateBus,
  type Scene,
  type SelfhealDaemon,
} from "../helpers/bus.js";

const LAUNCHER = resolve(import.meta.dirname, "fixtures/launcher.mjs");
const TAG = Math.random().toString(16).slice(2, 6);
const MARKER = `sbsafe-marker-${TAG}`;
const NOBODY = 65534;
let bus: PrivateBus;
let daemon: SelfhealDaemon;
let client: BusClient;
let close: Scene["close"];
let foreign: ChildProcess | null = null;

beforeAll(async () => {
  ({ bus, daemon, client, close } = await startScene({
    prefix: "safe",
    programs: { other: `sbsafe-ot${TAG}` },
    prepare(dir, { other }) {
      chmodSync(dir, 0o755);
      // Another user's process: a copy of sleep running as nobody.
      foreign = spawn(other, ["600"], { uid: NOBODY, gid: NOBODY, stdio: "ignore" });
    },
    daemon: {
      // The launcher stays the daemon's parent; its command line carries the marker.
      via: [process.execPath, LAUNCHER, MARKER, "--"],
    },
    config: ({ other }) => `${FAST_SETTINGS}
# Matches the daemon's own parent.
[process.ancestor]
command = ["/bin/false"]
match = "/${MARKER}/"

[process.other]
command = ["${other}", "600"]
`,
  }));
});

afterAll(async () => {
  foreign?.kill("SIGKILL");
  await close?.();
});

describe("the daemon's ancestors", () => {
  it("are adopted like any match, but StopProcess and RestartProcess answer .Protected and send nothing", async () => {
    const record = await waitForProcess(client, "ancestor", (r) => r.pid > 0);
    expect(record.pid).toBe(daemon.pid);
    for (const member of ["StopProcess", "RestartProcess"]) {
      const error = await errorOf(client.call(member, "s", ["ancestor"]));
      expect(error.type, member).toBe("io.github.SelfHeal1.Error.Protected");
      expect(error.text, member).toBe(`refusing to signal PID ${daemon.pid}: it is an ancestor of the selfheal daemon`);
    }
    expect(daemon.process.exitCode).toBeNull();
    expect(daemon.process.signalCode).toBeNull();
    expect((await processOf(client, "ancestor")).pid).toBe(daemon.pid);
    const [events] = await client.call("GetEvents", "tu", [0n, 0]);
    expect((plain(events) as Array<{ kind: string }>).filter((event) => event.kind === "protected")).toHaveLength(2);
  });

  it("the command line says so too, with exit status 1", async () => {
    const result = await selfheal(bus, ["stop", "ancestor"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("it is an ancestor of the selfheal daemon (Protected)");
  });
});

describe("other users' processes", () => {
  it("are never adopted, so nothing the bus asks can reach them", async () => {
    await new Promise((r) => setTimeout(r, 600));
    expect(await processOf(client, "other")).toMatchObject({ pid: 0, state: "stopped" });
    await client.call("StopProcess", "s", ["other"]);
    expect(foreign!.exitCode).toBeNull();
    expect(() => process.kill(foreign!.pid!, 0)).not.toThrow();
  });
});
