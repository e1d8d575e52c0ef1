// A real gnome-shell, headless, on private buses, driven over D-Bus from a test: start and stop
// it, evaluate JavaScript inside it (org.gnome.Shell.Eval), take screenshots, read its log.
import type { ChildProcess } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import dbus from "dbus-next";

const run = promisify(execFile);

export const HELPER_EXTENSION_DIR = resolve(import.meta.dirname, "fixtures", "unsafe-mode@selfheal.test");
export const HELPER_UUID = "unsafe-mode@selfheal.test";

const SHELL_START_TIMEOUT_MS = 45_000;
const SHELL_STOP_TIMEOUT_MS = 5_000;
const POLL_INTERVAL_MS = 50;
const MONITOR_SIZE = "1280x800";
// gnome-shell 43 segfaults in Clutter's teardown after a clean SIGTERM.
const SHELL_TEARDOWN_SEGFAULT = 139;

// A stand-in system bus: gnome-shell asks logind for the session at start and dies without a bus.
const SYSTEM_BUS_CONFIG = (socket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

export interface ShellOptions {
  /** Unpacked extension directories to install; each one's metadata.json names its uuid. */
  extensions: string[];
  /** UUIDs enabled at start, in this order (the unsafe-mode helper is always enabled first). */
  enabled: string[];
}

interface DaemonHandle {
  pid: number;
  address: string;
}

// Starts `dbus-daemon --fork` and reads back its address and pid.
async function startBus(args: string[], env: NodeJS.ProcessEnv): Promise<DaemonHandle> {
  const { stdout } = await run("dbus-daemon", [...args, "--fork", "--print-address=1", "--print-pid=1"], { env });
  const [address, pid] = stdout.trim().split("\n");
  if (!address || !pid) throw new Error(`dbus-daemon ${args.join(" ")} printed no address and pid: ${JSON.stringify(stdout)}`);
  return { address: address.trim(), pid: Number(pid) };
}

function killQuietly(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

// Resolves with the exit code (or 128 + signal) of a child, or null after `ms`.
function waitForExit(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(128 + (signalNumber(child.signalCode) ?? 0));
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(null), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolvePromise(code ?? 128 + (signal ? (signalNumber(signal) ?? 0) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGSEGV: 11, SIGTERM: 15, SIGKILL: 9, SIGABRT: 6 };
  return numbers[signal];
}

export class ShellHarness {
  readonly root: string;
  /** The environment of the shell's session: give it to any process that should join it. */
  readonly env: NodeJS.ProcessEnv;
  readonly bus: dbus.MessageBus;
  #shell: ChildProcess;
  #buses: DaemonHandle[];
  #log: string[];
  #stopped = false;

  private constructor(root: string, env: NodeJS.ProcessEnv, bus: dbus.MessageBus, shell: ChildProcess, buses: DaemonHandle[], log: string[]) {
    this.root = root;
    this.env = env;
    this.bus = bus;
    this.#shell = shell;
    this.#buses = buses;
    this.#log = log;
  }

  // Starts buses and gnome-shell with the extensions installed and enabled, and waits until
  // the shell has finished starting up (Eval answers, the startup animation is over).
  static async start(options: ShellOptions): Promise<ShellHarness> {
    const root = await mkdtemp(join(tmpdir(), "selfheal-shell-"));
    const dirs = {
      home: join(root, "home"),
      runtime: join(root, "runtime"),
      config: join(root, "config"),
      data: join(root, "data"),
      state: join(root, "state"),
      cache: join(root, "cache"),
    };
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    await chmod(dirs.runtime, 0o700);

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      LANG: "C.UTF-8",
      HOME: dirs.home,
      XDG_RUNTIME_DIR: dirs.runtime,
      XDG_CONFIG_HOME: dirs.config,
      XDG_DATA_HOME: dirs.data,
      XDG_STATE_HOME: dirs.state,
      XDG_CACHE_HOME: dirs.cache,
      NO_AT_BRIDGE: "1",
    };
    const buses: DaemonHandle[] = [];
    let shell: ChildProcess | null = null;
    let bus: dbus.MessageBus | null = null;
    try {
      const systemConfig = join(root, "system-bus.conf");
      await writeFile(systemConfig, SYSTEM_BUS_CONFIG(join(dirs.runtime, "system_bus_socket")));
      const system = await startBus([`--config-file=${systemConfig}`], env);
      buses.push(system);
      const session = await startBus(["--session", `--address=unix:path=${join(dirs.runtime, "bus")}`], env);
      buses.push(session);
      env.DBUS_SESSION_BUS_ADDRESS = session.address;
      env.DBUS_SYSTEM_BUS_ADDRESS = system.address;

      const extensionsDir = join(dirs.data, "gnome-shell", "extensions");
      for (const dir of [HELPER_EXTENSION_DIR, ...options.extensions]) {
        const metadata = JSON.parse(await readFile(join(dir, "metadata.json"), "utf8")) as { uuid: string };
        await cp(dir, join(extensionsDir, metadata.uuid), { recursive: true });
      }
      const enabled = [HELPER_UUID, ...options.enabled].map((uuid) => `'${uuid}'`).join(", ");
      await run("gsettings", ["set", "org.gnome.shell", "enabled-extensions", `[${enabled}]`], { env });
      // Keep the "Welcome to GNOME" tour out of screenshots.
      await run("gsettings", ["set", "org.gnome.shell", "welcome-dialog-last-shown-version", "'999'"], { env });

      const log: string[] = [];
      shell = spawn("gnome-shell", ["--headless", "--wayland", "--no-x11", "--virtual-monitor", MONITOR_SIZE], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const collect = (chunk: Buffer): void => {
        log.push(chunk.toString("utf8"));
      };
      shell.stdout?.on("data", collect);
      shell.stderr?.on("data", collect);

      bus = dbus.sessionBus({ busAddress: session.address });
      const harness = new ShellHarness(root, env, bus, shell, buses, log);
      await harness.#waitUntilStarted();
      return harness;
    } catch (error) {
      if (shell?.pid) killQuietly(shell.pid, "SIGKILL");
      bus?.disconnect();
      for (const { pid } of buses) killQuietly(pid);
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  async #waitUntilStarted(): Promise<void> {
    const deadline = Date.now() + SHELL_START_TIMEOUT_MS;
    // The bus name appears before /org/gnome/Shell is exported: poll until Eval answers.
    for (;;) {
      if (this.#shell.exitCode !== null || this.#shell.signalCode !== null) {
        throw new Error(`gnome-shell exited during start-up (${this.#shell.exitCode ?? this.#shell.signalCode}):\n${this.log()}`);
      }
      try {
        const startingUp = await this.eval<boolean>("Main.layoutManager._startingUp");
        if (!startingUp) break;
      } catch {
        // Not exported yet, or unsafe mode not on yet.
      }
      if (Date.now() > deadline) throw new Error(`gnome-shell did not start within ${SHELL_START_TIMEOUT_MS} ms:\n${this.log()}`);
      await sleep(POLL_INTERVAL_MS);
    }
    await this.eval("Main.overview.hide(); Main.messageTray.bannerBlocked = true; true");
    await this.waitFor("!Main.overview.visible && !Main.overview.animationInProgress", 10_000);
  }

  // Calls a method on the session bus and returns the reply's body.
  async call(destination: string, path: string, iface: string, member: string, signature = "", body: unknown[] = []): Promise<unknown[]> {
    const reply = await this.bus.call(
      new dbus.Message({ destination, path, interface: iface, member, signature, body }),
    );
    return reply?.body ?? [];
  }

  // Evaluates `code` in the shell (as org.gnome.Shell.Eval does: the value of the last
  // expression, through JSON). Throws with the shell's message when the code throws.
  async eval<T = unknown>(code: string): Promise<T> {
    const [success, result] = (await this.call("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell", "Eval", "s", [code])) as [
      boolean,
      string,
    ];
    if (!success) throw new Error(`Eval failed: ${result}\n--- code ---\n${code}`);
    return (result === "" ? undefined : JSON.parse(result)) as T;
  }

  // Polls `code` in the shell until it is truthy, and returns that value.
  async waitFor<T = unknown>(code: string, timeoutMs: number, what = code): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      last = await this.eval<T>(code);
      if (last) return last as T;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last value ${JSON.stringify(last)})`);
      await sleep(POLL_INTERVAL_MS);
    }
  }

  // Saves a PNG of the whole screen.
  async screenshot(file: string): Promise<void> {
    await mkdir(resolve(file, ".."), { recursive: true });
    const [success, used] = (await this.call(
      "org.gnome.Shell.Screenshot",
      "/org/gnome/Shell/Screenshot",
      "org.gnome.Shell.Screenshot",
      "Screenshot",
      "bbs",
      [false, false, resolve(file)],
    )) as [boolean, string];
    if (!success) throw new Error(`screenshot to ${file} failed (${used})`);
  }

  // Saves a PNG of one area of the screen, in logical pixels.
  async screenshotArea(file: string, area: { x: number; y: number; width: number; height: number }): Promise<void> {
    await mkdir(resolve(file, ".."), { recursive: true });
    const [success, used] = (await this.call(
      "org.gnome.Shell.Screenshot",
      "/org/gnome/Shell/Screenshot",
      "org.gnome.Shell.Screenshot",
      "ScreenshotArea",
      "iiiibs",
      [Math.round(area.x), Math.round(area.y), Math.round(area.width), Math.round(area.height), false, resolve(file)],
    )) as [boolean, string];
    if (!success) throw new Error(`screenshot of an area to ${file} failed (${used})`);
  }

  /** Everything the shell printed so far. */
  log(): string {
    return this.#log.join("");
  }

  /** The shell's `JS ERROR` reports so far, each with the lines of its stack. */
  jsErrors(): string[] {
    const lines = this.log().split("\n");
    const errors: string[] = [];
    lines.forEach((line, index) => {
      if (!line.includes("JS ERROR")) return;
      const stack: string[] = [line];
      for (let next = index + 1; next < lines.length && /^\S*@\S+:\d+/.test(lines[next] ?? ""); next++) stack.push(lines[next] ?? "");
      errors.push(stack.join("\n"));
    });
    return errors;
  }

  // Stops the shell and both buses (by PID) and removes the private directories.
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.bus.disconnect();
    if (this.#shell.pid) {
      killQuietly(this.#shell.pid);
      const code = await waitForExit(this.#shell, SHELL_STOP_TIMEOUT_MS);
      if (code === null) {
        killQuietly(this.#shell.pid, "SIGKILL");
        await waitForExit(this.#shell, SHELL_STOP_TIMEOUT_MS);
      } else if (code !== 0 && code !== SHELL_TEARDOWN_SEGFAULT) {
        this.#log.push(`\n[harness] gnome-shell exited with ${code}\n`);
      }
    }
    for (const { pid } of this.#buses) killQuietly(pid);
    await rm(this.root, { recursive: true, force: true });
  }
}
