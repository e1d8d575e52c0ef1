// A rejected config.toml is visible without the event log: the ConfigError
// property says why and what is in force instead, Health is at least
// degraded, and `selfheal status` says so on its first line; a good edit
// clears it. The bus and the daemon run in a PID namespace of their own.
import { chmodSync } from "node:fs";

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBusSandbox, type BusSandbox } from "../fixtures/busSandbox.js";
import { sandboxProblem } from "../fixtures/sandbox.js";
import { BUS_NAME, busctl, connectClient, DEFAULT_WAIT_MS, MANAGER_INTERFACE, OBJECT_PATH, plain, selfheal, testProgram, waitUntil, type BusClient } from "../helpers/bus.js";

const problem = sandboxProblem();
let box: BusSandbox;
let client: BusClient;
let program: string;

const good = (limit: number): string => `[settings]\ninterval = 0.2\n\n[process.web]\ncommand = ["${program}", "600"]\nmemory_limit_mb = ${limit}\n`;
const BROKEN = (): string => `[settings]\ninterval = 0.2\n\n[process.web]\ncommand = ["${program}", "600"]\nmemory_limit_mb = -5\n`;

// The Manager's properties now, as plain values.
async function properties(): Promise<Record<string, unknown>> {
  const [all] = await client.callOn("org.freedesktop.DBus.Properties", "GetAll", "s", [MANAGER_INTERFACE]);
  return plain(all) as Record<string, unknown>;
}

beforeAll(async () => {
  if (problem !== null) return;
  box = await startBusSandbox({ prefix: "cfgerr" });
  program = testProgram(box.dir, "web-server");
  box.writeConfig(BROKEN());
});

afterAll(async () => {
  client?.close();
  await box?.close();
});

describe.skipIf(problem !== null)("a rejected config.toml", () => {
  it("at start (no earlier good version): the first line of selfheal status, ConfigError and Health degraded", async () => {
    const status = await selfheal(box.bus, ["status"]);
    expect(status.code).toBe(0);
    const [first, second] = status.stdout.split("\n");
    expect(first).toBe(`config.toml rejected: ${box.configPath}:6: process.web.memory_limit_mb: expected a number greater than 0, got -5 (number)`);
    expect(second).toBe("  no earlier version of config.toml loaded, so none of its policies are in force; fix the file and save it");
    expect(status.stdout).toMatch(/health degraded/);
    client = await connectClient(box.bus);
    const props = await properties();
    expect(props.ConfigError).toBe(`${box.configPath}:6: process.web.memory_limit_mb: expected a number greater than 0, got -5 (number)\nno earlier version of config.toml loaded, so none of its policies are in force; fix the file and save it`);
    expect(props.Health).toBe("degraded");
  });

  it("a good edit clears it (PropertiesChanged), and the policy applies", async () => {
    client.signals.clear();
    box.writeConfig(good(90));
    await client.signals.waitFor("PropertiesChanged", ([, changed]) => (plain(changed) as Record<string, unknown>).ConfigError === "");
    expect(await properties()).toMatchObject({ ConfigError: "", Health: "ok", WatchedCount: 1 });
    const status = await selfheal(box.bus, ["status"]);
    expect(status.stdout.split("\n")[0]).toMatch(/^selfheal \S+: health ok; 1 program watched/);
  });

  it("a bad edit later: busctl shows ConfigError naming the line, the last good one stays in force", async () => {
    box.writeConfig(BROKEN());
    await waitUntil(async () => (await properties()).ConfigError !== "", DEFAULT_WAIT_MS, () => "ConfigError stayed empty");
    const result = await busctl(box.bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "ConfigError", "Health"]);
    expect(result.stdout).toBe(
      `s "${box.configPath}:6: process.web.memory_limit_mb: expected a number greater than 0, got -5 (number)\\nthe last good version of config.toml stays in force"\ns "degraded"\n`,
    );
    const [record] = await client.call("GetProcess", "s", ["web"]);
    expect((plain(record) as { memory_limit_bytes: number }).memory_limit_bytes).toBe(90 * 1024 * 1024);
    const status = await selfheal(box.bus, ["status", "--json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ health: "degraded", config_error: expect.stringContaining("process.web.memory_limit_mb") });
  });

  it("a plain mail password in a file others can read: refused, naming chmod 600 and password_command", async () => {
    box.writeConfig(good(90));
    await waitUntil(async () => (await properties()).ConfigError === "", 10_000, () => "ConfigError did not clear");
    const mail = '[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = 25\nfrom = "a@example.org"\nto = "b@example.org"\nusername = "a"\npassword = "hunter2"\n';
    chmodSync(box.configPath, 0o644);
    box.writeConfig(`${good(90)}\n${mail}`);
    await waitUntil(async () => (await properties()).ConfigError !== "", 10_000, () => "ConfigError stayed empty");
    const error = String((await properties()).ConfigError);
    expect(error).toContain(`${box.configPath}:14: email.password: the file holds the mail password in plain text and other users can read it (mode 644)`);
    expect(error).toContain(`\`chmod 600 ${box.configPath}\``);
    expect(error).toContain("password_command");
    expect(error).not.toContain("hunter2");
    // Made private, the same text loads.
    chmodSync(box.configPath, 0o600);
    box.writeConfig(`${good(90)}\n${mail}`);
    await waitUntil(async () => (await properties()).ConfigError === "", 10_000, () => "ConfigError did not clear after chmod 600");
  });
});
