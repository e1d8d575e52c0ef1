// Engine events arrive as the contract's signals, with the right arguments,
// and property changes as PropertiesChanged. Each signal is waited for with a
// timeout; only this file's own programs are signalled.
import { execFileSync } from "node:child_process";
import { copyFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  busctl,
  connectClient,
  FAST_SETTINGS,
  MANAGER_INTERFACE,
  plain,
  processOf,
  startPrivateBus,
  startScene,
  testProgram,
  waitForProcess,
  waitUntil,
  type BusClient,
  type PrivateBus,
  type ReceivedSignal,
  type Scene,
} from "../helpers/bus.js";
import { sandboxProblem, startSandbox, type Sandbox } from "../fixtures/sandbox.js";

const TAG = Math.random().toString(16).slice(2, 6);
let bus: PrivateBus;
let client: BusClient;
let close: Scene["close"];

beforeAll(async () => {
  ({ bus, client, close } = await startScene({
    prefix: "sig",
    programs: { crashy: `sbsig-cr${TAG}`, failer: `sbsig-fa${TAG}`, looper: `sbsig-lo${TAG}`, fat: `sbsig-ft${TAG}` },
    config: ({ crashy, failer, looper, fat }) => `${FAST_SETTINGS}
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

# Started by its test, once the client listens: at autostart, a busy machine could see it
# breach its limit and the (one) ResourceViolation go out before the client connected.
[process.fat]
command = ["${fat}", "600"]
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
    await client.call("StartProcess", "s", ["fat"]);
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

// The zombie signals come from a daemon in a PID namespace of its own, which
// sees no zombie but this test's: outside one, other test files' zombies
// appeared and vanished in the same scans, so the count it announces need not
// change when ours appears (the cause of this test's old flakiness).
describe.skipIf(sandboxProblem() !== null || process.getuid?.() !== 0)("zombies", () => {
  let zombieBus: PrivateBus;
  let zombieClient: BusClient;
  let sandbox: Sandbox;

  beforeAll(async () => {
    zombieBus = await startPrivateBus();
    // min_age = 0: a zombie is announced on the first scan that sees it.
    sandbox = await startSandbox(`${FAST_SETTINGS}\n[zombies]\nmin_age = 0\n`, "sig-zombies", { bus: zombieBus });
    zombieClient = await connectClient(zombieBus);
  });

  afterAll(async () => {
    zombieClient?.close();
    await sandbox?.close();
    await zombieBus?.stop();
  });

  it("a new zombie: ZombiesDetected, ZombieCount by PropertiesChanged, and ListZombies names it and its parent", async () => {
    const parentName = `sbsig-zp${TAG}`;
    const childName = `sbsig-zc${TAG}`;
    const shell = sandbox.file(parentName);
    copyFileSync("/bin/sh", shell);
    const child = testProgram(sandbox.dir, childName);
    const release = sandbox.file("release");
    execFileSync("mkfifo", [release]);
    // The shell starts a child that ends at once, and does not wait for it until told to (a line in the FIFO).
    sandbox.run(`exec "${shell}" -c '"${child}" 0 & read line < "${release}"; wait'`);
    const detected = await zombieClient.signals.waitFor("ZombiesDetected");
    expect(args(detected)).toEqual([1]);
    const changed = await zombieClient.signals.waitFor("PropertiesChanged", ([, props]) => (plain(props) as Record<string, unknown>).ZombieCount === 1);
    expect(changed.at).toBeGreaterThanOrEqual(detected.at);
    const maker = sandbox.processes().find((process) => process.comm === parentName.slice(0, 15));
    expect(maker).toBeDefined();
    const [zombies] = (await zombieClient.call("ListZombies")) as [unknown[]];
    expect(plain(zombies)).toEqual([expect.objectContaining({ name: childName.slice(0, 15), parent_name: parentName.slice(0, 15), ppid: maker!.nsPid })]);
    const ours = (plain(zombies) as Array<{ pid: number }>)[0]!;

    // CleanupZombies only asks parents to reap (SIGCHLD, through the signal guard) while
    // [zombies] kill_parents is off, as here; ending parents is tested in test/zombies.
    const [reaped, remaining] = (await zombieClient.call("CleanupZombies")) as [number, number];
    const cleaned = await zombieClient.signals.waitFor("ZombiesCleaned");
    expect(args(cleaned)).toEqual([reaped, remaining]);
    // The shell ignores SIGCHLD while it reads, and kill_parents is off: ours remains.
    expect(remaining).toBe(1);

    // Let the shell reap it: the zombie leaves the list, and ZombieCount goes back to 0.
    writeFileSync(release, "go\n");
    await zombieClient.signals.waitFor("PropertiesChanged", ([, props]) => (plain(props) as Record<string, unknown>).ZombieCount === 0);
    const [after] = (await zombieClient.call("ListZombies")) as [unknown[]];
    expect((plain(after) as Array<{ pid: number }>).some((zombie) => zombie.pid === ours.pid)).toBe(false);
  });
});
