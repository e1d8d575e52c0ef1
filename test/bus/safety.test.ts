// Safety holds on the bus: the daemon never adopts its own ancestors (a policy
// matching one is told once and shows why), so nothing a caller asks reaches
// them; and it never sees other users' processes.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
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
# Matches the daemon's own parent; over its limit from the first scan (a node
# process is far above 1 MB), which must never reach it.
[process.ancestor]
command = ["/bin/false"]
match = "/${MARKER}/"
memory_limit_mb = 1
on_violation = "kill"
sustain = 1

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
  it("are never adopted: the match is told once and shown, and StopProcess has nothing to stop", async () => {
    const why = `PID ${daemon.pid}: it is an ancestor of the selfheal daemon`;
    const record = await waitForProcess(client, "ancestor", (r) => r.protected_match !== "");
    expect(record).toMatchObject({ pid: 0, state: "stopped", protected_match: why });
    await client.call("StopProcess", "s", ["ancestor"]);
    expect(daemon.process.exitCode).toBeNull();
    expect(daemon.process.signalCode).toBeNull();
    expect(await processOf(client, "ancestor")).toMatchObject({ pid: 0, protected_match: why });
    const [events] = await client.call("GetEvents", "tu", [0n, 0]);
    const told = (plain(events) as Array<{ kind: string; message: string }>).filter((event) => event.kind === "protected-match");
    expect(told).toHaveLength(1);
    expect(told[0]!.message).toBe(`ancestor: its match "/${MARKER}/" names only processes selfheal never touches (${why}); none is adopted`);
    expect((plain(events) as Array<{ kind: string }>).some((event) => event.kind === "protected" || event.kind === "adopted")).toBe(false);
  });

  it("the command line shows why the policy watches nothing", async () => {
    const result = await selfheal(bus, ["status"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ancestor: its match names only processes selfheal never touches (PID ${daemon.pid}: it is an ancestor of the selfheal daemon); none is adopted`);
    const detail = await selfheal(bus, ["status", "ancestor"]);
    expect(detail.stdout).toContain(`note:     its match names only processes selfheal never touches (PID ${daemon.pid}`);
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

describe("after all this", () => {
  it("the daemon never acted on its ancestor, still runs, and stops with status 0", async () => {
    const [events] = await client.call("GetEvents", "tu", [0n, 0]);
    expect((plain(events) as Array<{ kind: string }>).some((event) => event.kind === "violation")).toBe(false);
    expect(daemon.process.exitCode).toBeNull();
    expect(await daemon.stop()).toEqual({ code: 0, signal: null });
  });
});
