// D-Bus activation: a call to io.github.SelfHeal1 starts the daemon. The bus
// here is private, with a <servicedir> holding the shipped activation file
// whose Exec points at the built daemon (there is no systemd in the tests, so
// Exec is what runs). And the shipped files say what the contract says.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import dbus from "dbus-next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUS_NAME,
  busctl,
  connectClient,
  DAEMON_JS,
  DAEMON_NODE,
  makeTempDir,
  MANAGER_INTERFACE,
  OBJECT_PATH,
  ownerPidOf,
  REPO,
  startPrivateBus,
  waitUntil,
  writeConfig,
  type BusClient,
  type PrivateBus,
} from "../helpers/bus.js";

const ACTIVATION_FILE = join(REPO, "dbus/io.github.SelfHeal1.service");
const UNIT_FILE = join(REPO, "dbus/selfheal.service");

// key=value lines of an ini-style file, by section.
function iniFile(path: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) sections[header[1]!] = current = {};
    else {
      const eq = trimmed.indexOf("=");
      current[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
    }
  }
  return sections;
}

describe("the shipped files", () => {
  it("the activation file names the bus name and the systemd unit", () => {
    const service = iniFile(ACTIVATION_FILE)["D-BUS Service"];
    expect(service).toMatchObject({ Name: BUS_NAME, SystemdService: "selfheal.service" });
    // Run by the bus itself only where no systemd runs the unit: the daemon then logs to daemon.log.
    expect(service?.Exec).toMatch(/selfheal" daemon --log-file'$/);
  });

  it("the user unit is Type=dbus on the name, restarts on failure, and stops only the daemon", () => {
    const unit = iniFile(UNIT_FILE);
    expect(unit.Service).toMatchObject({ Type: "dbus", BusName: BUS_NAME, Restart: "on-failure", KillMode: "process", RestartPreventExitStatus: "3" });
    expect(unit.Service?.ExecStart).toMatch(/\/selfheal daemon$/);
    expect(unit.Install?.WantedBy).toBeDefined();
  });
});

describe("activation on a private bus", () => {
  let root: string;
  let bus: PrivateBus;
  let client: BusClient;
  let activatedPid = 0;

  beforeAll(async () => {
    root = makeTempDir("act");
    const services = join(root, "services");
    mkdirSync(services);
    // The shipped file, with Exec pointing at the built daemon.
    const shipped = readFileSync(ACTIVATION_FILE, "utf8");
    writeFileSync(join(services, "io.github.SelfHeal1.service"), shipped.replace(/^Exec=.*$/m, `Exec=${DAEMON_NODE} ${DAEMON_JS} daemon`));
    writeConfig(root, `[process.idle]\ncommand = ["/bin/true"]\n`);
    // Activated services inherit the bus's environment: the private XDG folders go there.
    bus = await startPrivateBus({
      serviceDirs: [services],
      env: { ...process.env, XDG_CONFIG_HOME: join(root, "config"), XDG_STATE_HOME: join(root, "state"), DBUS_SESSION_BUS_ADDRESS: "" },
    });
    client = await connectClient(bus);
  });

  afterAll(async () => {
    if (activatedPid > 0) {
      try {
        process.kill(activatedPid, "SIGTERM");
      } catch {
        // already gone
      }
      // Its parent is the bus: let the bus collect it before the bus goes.
      await waitUntil(() => !existsSync(`/proc/${activatedPid}`), 10_000, () => `the activated daemon (PID ${activatedPid}) did not end`);
    }
    client?.close();
    await bus?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const nameOwner = async (): Promise<string | null> => {
    try {
      const reply = await client.bus.call(
        new dbus.Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "GetNameOwner", signature: "s", body: [BUS_NAME] }),
      );
      return reply?.body[0] as string;
    } catch {
      return null;
    }
  };

  it("the name is activatable and not running before the first call", async () => {
    const result = await busctl(bus, ["list", "--activatable"]);
    expect(result.stdout).toContain(BUS_NAME);
    expect(await nameOwner()).toBeNull();
  });

  it("a busctl call starts the daemon (from the activation file's Exec) and gets its answer", async () => {
    const result = await busctl(bus, ["call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "ListProcesses"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^aa\{sv\} 1 \d+ "name" s "idle"/);
    activatedPid = await ownerPidOf(client.bus);
    const cmdline = readFileSync(`/proc/${activatedPid}/cmdline`, "utf8").split("\0");
    expect(cmdline.slice(0, 3)).toEqual([DAEMON_NODE, DAEMON_JS, "daemon"]);
    // It took the private folders from the bus's environment.
    const [events] = await client.call("GetEvents", "tu", [0n, 0]);
    expect(Array.isArray(events)).toBe(true);
    expect(readFileSync(join(root, "state", "selfheal", "config.last-good.toml"), "utf8")).toContain("[process.idle]");
  });

  it("it stops on SIGTERM and leaves the name; the next call activates it again", async () => {
    process.kill(activatedPid, "SIGTERM");
    await waitUntil(async () => (await nameOwner()) === null, 10_000, () => "the activated daemon did not leave the bus");
    const again = await busctl(bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "WatchedCount"]);
    expect(again.stdout.trim()).toBe("u 1");
    const owner = await nameOwner();
    expect(owner).not.toBeNull();
    const second = await ownerPidOf(client.bus);
    expect(second).not.toBe(activatedPid);
    activatedPid = second;
  });
});

describe("the shipped activation file, as it is", () => {
  it("runs ~/.local/bin/selfheal daemon (HOME pointing at a folder where that is the built daemon)", async () => {
    const home = makeTempDir("act-home");
    const services = join(home, "services");
    mkdirSync(join(home, ".local", "bin"), { recursive: true });
    symlinkSync(DAEMON_JS, join(home, ".local", "bin", "selfheal"));
    mkdirSync(services);
    copyFileSync(ACTIVATION_FILE, join(services, "io.github.SelfHeal1.service"));
    writeConfig(home, "");
    const bus = await startPrivateBus({
      serviceDirs: [services],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, "config"), XDG_STATE_HOME: join(home, "state") },
    });
    const client = await connectClient(bus);
    let pid = 0;
    try {
      const result = await busctl(bus, ["get-property", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "WatchedCount"]);
      expect(result).toMatchObject({ code: 0, stdout: "u 0\n", stderr: "" });
      pid = await ownerPidOf(client.bus);
      expect(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")).toContain(join(home, ".local", "bin", "selfheal"));
    } finally {
      if (pid > 0) {
        process.kill(pid, "SIGTERM");
        await waitUntil(() => !existsSync(`/proc/${pid}`), 10_000, () => `the activated daemon (PID ${pid}) did not end`);
      }
      client.close();
      await bus.stop();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
