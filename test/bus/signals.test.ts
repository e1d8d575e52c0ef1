// Engine events arrive as the contract's signals, with the right arguments,
// and property changes as PropertiesChanged. Each signal is waited for with a
// timeout; only this file's own programs are signalled.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busctl,
  FAST_SETTINGS,
  MANAGER_INTERFACE,
  plain,
  processOf,
  startScene,
  testProgram,
  waitForProcess,
  waitUntil,
  type BusClient,
  type PrivateBus,
  type ReceivedSignal,
  type Scene,
} from "../helpers/bus.js";

const TAG = Math.random().toString(16).slice(2, 6);
let dir: string;
let bus: PrivateBus;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  ({ dir, bus, client, close } = await startScene({
    prefix: "sig",
    programs: { crashy: `sbsig-cr${TAG}`, failer: `sbsig-fa${TAG}`, looper: `sbsig-lo${TAG}`, fat: `sbsig-ft${TAG}` },
    config: ({ crashy, failer, looper, fat }) => `${FAST_SETTINGS}
# Zombies are announced on the scan that first sees them (not after the default 60 s).
[zombies]
min_age = 0

[process.crashy]
command = ["${crashy}", "600"]
autostart = true

# sleep exits 1 on a bad argument: a crash with a known exit code.
[process.failer]
command = ["${failer}", "not-a-number"]
restart = "never"

[process.looper]
command = ["${looper}", "not-a-number"]
cooldown = { max_restarts = 2, window = 60, pause = 1.5 }

[process.fat]
command = ["${fat}", "600"]
autostart = true
memory_limit_mb = 0.5
sustain = 1
on_violation = "notify"
`,
  }));
  await waitForProcess(client, "crashy", (record) => record.pid > 0);
});

afterAll(() => close?.());

const args = (signal: ReceivedSignal): unknown[] => plain(signal.args) as unknown[];

describe("process signals", () => {
  it("a crash by a signal: ProcessCrashed with exit_code -1 and the signal's name, then ProcessRestarted", async () => {
    const { pid } = await processOf(client, "crashy");
    process.kill(pid, "SIGSEGV");
    const crashed = await client.signals.waitFor("ProcessCrashed", ([name, crashedPid]) => name === "crashy" && crashedPid === pid);
    expect(args(crashed)).toEqual(["crashy", pid, -1, "SIGSEGV", true]);
    const restarted = await client.signals.waitFor("ProcessRestarted", ([name, oldPid]) => name === "crashy" && oldPid === pid);
    const [, , newPid, reason] = args(restarted) as [string, number, number, string];
    expect(reason).toBe("crash");
    expect(newPid).toBeGreaterThan(0);
    expect(newPid).not.toBe(pid);
    expect((await processOf(client, "crashy")).pid).toBe(newPid);
    const logged = await client.signals.waitFor("EventLogged", ([event]) => plain(event) instanceof Object && (plain(event) as { kind: string; pid: number }).pid === pid);
    expect(plain(logged.args[0])).toMatchObject({ kind: "crashed", process: "crashy", pid, signal: "SIGSEGV", will_restart: true });
  });

  it("a crash with an exit code: ProcessCrashed carries the code and no signal; restart = never says so", async () => {
    await client.call("StartProcess", "s", ["failer"]).catch(() => undefined);
    const crashed = await client.signals.waitFor("ProcessCrashed", ([name]) => name === "failer");
    const [name, pid, exitCode, signal, willRestart] = args(crashed);
    expect({ name, exitCode, signal, willRestart }).toEqual({ name: "failer", exitCode: 1, signal: "", willRestart: false });
    expect(pid).toBeGreaterThan(0);
  });

  it("a memory limit: ResourceViolation with the figures", async () => {
    const violation = await client.signals.waitFor("ResourceViolation", ([name]) => name === "fat");
    const [, pid, resource, value, limit] = args(violation) as [string, number, string, number, number];
    expect(resource).toBe("memory");
    expect(limit).toBe(0.5 * 1024 * 1024);
    expect(value).toBeGreaterThan(limit);
    expect(pid).toBe((await processOf(client, "fat")).pid);
  });
});

describe("cooldown and health", () => {
  it("a crash loop: CooldownActivated, Health critical and CooldownCount 1 by PropertiesChanged; CooldownEnded after the pause", async () => {
    await client.call("StartProcess", "s", ["looper"]).catch(() => undefined);
    const activated = await client.signals.waitFor("CooldownActivated", ([name]) => name === "looper");
    const [, restarts, seconds] = args(activated) as [string, number, number];
    expect(restarts).toBe(2);
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThanOrEqual(1.5);
    const changed = await client.signals.waitFor(
      "PropertiesChanged",
      ([iface, props]) => iface === MANAGER_INTERFACE && (plain(props) as Record<string, unknown>).Health === "critical",
    );
    expect(changed.at).toBeGreaterThanOrEqual(activated.at);
    await client.signals.waitFor("PropertiesChanged", ([, props]) => (plain(props) as Record<string, unknown>).CooldownCount === 1);
    const health = await busctl(bus, ["get-property", "io.github.SelfHeal1", "/io/github/SelfHeal1", MANAGER_INTERFACE, "Health"]);
    expect(health.stdout.trim()).toBe('s "critical"');
    const [cooldowns] = (await client.call("GetCooldowns")) as [unknown[]];
    expect(plain(cooldowns)).toEqual(expect.arrayContaining([expect.objectContaining({ name: "looper", restarts_in_window: 2, state: "cooldown" })]));

    const ended = await client.signals.waitFor("CooldownEnded", ([name]) => name === "looper", 5000);
    expect(ended.at - activated.at).toBeGreaterThan(1000);
    // It would loop again: stop it, and Health comes back to ok.
    await client.call("StopProcess", "s", ["looper"]);
    await waitUntil(
      async () => plain((await client.callOn("org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER_INTERFACE, "Health"]))[0]) === "ok",
      5000,
      () => "Health did not come back to ok",
    );
    const okAgain = client.signals.received.filter((s) => s.member === "PropertiesChanged" && (plain(s.args[1]) as Record<string, unknown>).Health === "ok");
    expect(okAgain.length).toBeGreaterThan(0);
  });

  it("ResetCooldown ends a cooldown at once with CooldownEnded", async () => {
    client.signals.clear();
    await client.call("StartProcess", "s", ["looper"]).catch(() => undefined);
    await client.signals.waitFor("CooldownActivated", ([name]) => name === "looper");
    const before = performance.now();
    await client.call("ResetCooldown", "s", ["looper"]);
    const ended = await client.signals.waitFor("CooldownEnded", ([name]) => name === "looper", 1000);
    expect(ended.at - before).toBeLessThan(500);
    await client.call("StopProcess", "s", ["looper"]);
  });
});

describe("zombies", () => {
  let maker: ChildProcess | null = null;

  afterAll(() => maker?.kill("SIGKILL"));

  it("a new zombie: ZombiesDetected, ZombieCount by PropertiesChanged, and ListZombies names it and its parent", async () => {
    const parentName = `sbsig-zp${TAG}`;
    const childName = `sbsig-zc${TAG}`;
    const shell = join(dir, parentName);
    copyFileSync("/bin/sh", shell);
    const child = testProgram(dir, childName);
    // The shell starts a child that ends at once, and does not wait for it until told to (a line on stdin).
    maker = spawn(shell, ["-c", `"${child}" 0 & read line; wait`], { stdio: ["pipe", "ignore", "ignore"] });
    const detected = await client.signals.waitFor("ZombiesDetected");
    expect(args(detected)[0]).toBeGreaterThanOrEqual(1);
    let ours: Record<string, unknown> | undefined;
    await waitUntil(
      async () => {
        const [zombies] = (await client.call("ListZombies")) as [unknown[]];
        ours = (plain(zombies) as Array<Record<string, unknown>>).find((zombie) => zombie.ppid === maker!.pid);
        return ours !== undefined;
      },
      5000,
      () => "our zombie is not in ListZombies",
    );
    expect(ours).toMatchObject({ name: childName.slice(0, 15), parent_name: parentName.slice(0, 15), ppid: maker.pid });
    await client.signals.waitFor("PropertiesChanged", ([, props]) => typeof (plain(props) as Record<string, unknown>).ZombieCount === "number");

    // CleanupZombies only asks parents to reap (SIGCHLD, through the signal guard) while
    // [zombies] kill_parents is off, as here: it ends no process, so it may run outside a
    // PID namespace. Ending parents is tested in test/zombies, inside one.
    const [reaped, remaining] = (await client.call("CleanupZombies")) as [number, number];
    const cleaned = await client.signals.waitFor("ZombiesCleaned");
    expect(args(cleaned)).toEqual([reaped, remaining]);
    // The shell ignores SIGCHLD and kill_parents is off: ours remains.
    expect(remaining).toBeGreaterThanOrEqual(1);

    // Let the shell reap it: the zombie leaves the list.
    maker.stdin!.end("go\n");
    await waitUntil(
      async () => {
        const [zombies] = (await client.call("ListZombies")) as [unknown[]];
        return !(plain(zombies) as Array<Record<string, unknown>>).some((zombie) => zombie.pid === ours!.pid);
      },
      5000,
      () => "the reaped zombie is still listed",
    );
  });
});
