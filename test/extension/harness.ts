// A real gnome-shell, headless, on private buses, driven over D-Bus from a test: start and stop
// it, evaluate JavaScript inside it (org.gnome.Shell.Eval), take screenshots, read its log, run
// programs in its session.
//
// Each shell runs in a PID and mount namespace of its own (fixtures/shell-session.sh is its PID 1),
// either this machine's gnome-shell or GNOME Shell 48 from a Debian 13 root file system
// (scripts/gnome-shell-48-root.sh builds it once). The session's folder is at the same path inside
// and outside, so the daemon under test and this process use its bus socket as they are.
import type { ChildProcess } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import dbus from "dbus-next";

const run = promisify(execFile);

const FIXTURES = resolve(import.meta.dirname, "fixtures");
const SESSION_SCRIPT = join(FIXTURES, "shell-session.sh");
const PREFS_DRIVER = join(FIXTURES, "prefs-driver.js");
const PREFS_PROBE_NAME = "io.github.SelfHeal1.Test.Prefs";
const PREFS_PROBE_PATH = "/io/github/SelfHeal1/Test/Prefs";
const PREFS_START_TIMEOUT_MS = 60_000;
// Where Debian keeps the shell's private typelibs (Shew, which GNOME 45+'s preferences service imports).
const SHELL_PRIVATE_TYPELIBS = "/usr/lib/gnome-shell/girepository-1.0";
const GNOME48_ROOT_SCRIPT = resolve(import.meta.dirname, "../../scripts/gnome-shell-48-root.sh");
export const HELPER_UUID = "unsafe-mode@selfheal.test";

// A deadline for start-up, not a budget: on a loaded 2-core machine (load 20) GNOME 43 took over 45 s.
const SHELL_START_TIMEOUT_MS = 120_000;
const SHELL_STOP_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;
const CALL_TIMEOUT_MS = 30_000;
/** The calls that look into a call without an answer. */
const DIAGNOSIS_CALL_TIMEOUT_MS = 5_000;
const MONITOR_SIZE = "1280x800";
// gnome-shell 43 segfaults in Clutter's teardown after a clean SIGTERM.
const SHELL_TEARDOWN_SEGFAULT = 139;
const PATH_INSIDE = "/usr/sbin:/usr/bin:/sbin:/bin";

// A stand-in system bus: gnome-shell asks logind for the session at start and dies without a bus.
// Without the receive_sender rule every call hangs and the shell dies after 25 s.
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

/** Which gnome-shell: this machine's, or GNOME Shell 48 from its Debian 13 root file system. */
export type ShellKind = "host" | "gnome48";

export interface ShellOptions {
  shell: ShellKind;
  /** Unpacked extension directories to install; each one's metadata.json names its uuid. */
  extensions?: string[];
  /** Extension zips to install as users do, with `gnome-extensions install` in the session's root. */
  zips?: string[];
  /** UUIDs enabled at start, in this order (the unsafe-mode helper is always enabled first). */
  enabled: string[];
  /** The session's locale; C.UTF-8 unless given. */
  lang?: string;
}

// The unsafe-mode helper of each shell's extension format (see fixtures/unsafe-mode/).
const HELPER_DIRS: Record<ShellKind, string> = {
  host: join(FIXTURES, "unsafe-mode", "legacy"),
  gnome48: join(FIXTURES, "unsafe-mode", "esm"),
};

// The root file system a shell runs in: this machine's, or the GNOME 48 one, built (once) on demand.
async function rootOf(kind: ShellKind): Promise<string> {
  if (kind === "host") return "/";
  try {
    const { stdout } = await run("bash", [GNOME48_ROOT_SCRIPT], { maxBuffer: 1 << 20, timeout: 15 * 60_000 });
    return stdout.trim().split("\n").pop() ?? "";
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`the GNOME Shell 48 root file system could not be set up:\n${failure.stderr ?? failure.message}`);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

// Resolves with true once the child has exited, or false after `ms`.
function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

// The first child of a process (the namespace's PID 1 is unshare's only child), or null.
function firstChild(pid: number): number | null {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/);
    return children[0] ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

export class ShellHarness {
  readonly kind: ShellKind;
  readonly root: string;
  /** The environment of the shell's session: give it to any process that should join it. */
  readonly env: NodeJS.ProcessEnv;
  readonly bus: dbus.MessageBus;
  #namespace: ChildProcess;
  #init: number;
  #stopped = false;
  #evals = 0;

  private constructor(kind: ShellKind, root: string, env: NodeJS.ProcessEnv, bus: dbus.MessageBus, namespace: ChildProcess, init: number) {
    this.kind = kind;
    this.root = root;
    this.env = env;
    this.bus = bus;
    this.#namespace = namespace;
    this.#init = init;
  }

  // Starts buses and gnome-shell with the extensions installed and enabled, and waits until
  // the shell has finished starting up (Eval answers, the startup animation is over).
  static async start(options: ShellOptions): Promise<ShellHarness> {
    if (process.getuid?.() !== 0) throw new Error("the shell tests run gnome-shell in namespaces of its own: they need root");
    const fsRoot = await rootOf(options.shell);
    const root = await mkdtemp(join(tmpdir(), "selfheal-shell-"));
    const dirs = {
      home: join(root, "home"),
      runtime: join(root, "runtime"),
      config: join(root, "config"),
      data: join(root, "data"),
      state: join(root, "state"),
      cache: join(root, "cache"),
      shots: join(root, "shots"),
    };
    for (const dir of Object.values(dirs)) await mkdir(dir, { recursive: true });
    await chmod(dirs.runtime, 0o700);
    const lang = options.lang ?? "C.UTF-8";
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? PATH_INSIDE,
      LANG: lang,
      HOME: dirs.home,
      XDG_RUNTIME_DIR: dirs.runtime,
      XDG_CONFIG_HOME: dirs.config,
      XDG_DATA_HOME: dirs.data,
      XDG_STATE_HOME: dirs.state,
      XDG_CACHE_HOME: dirs.cache,
      NO_AT_BRIDGE: "1",
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dirs.runtime, "bus")}`,
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dirs.runtime, "system_bus_socket")}`,
    };

    let namespace: ChildProcess | null = null;
    let bus: dbus.MessageBus | null = null;
    try {
      await writeFile(join(root, "system-bus.conf"), SYSTEM_BUS_CONFIG(join(dirs.runtime, "system_bus_socket")));
      await copyFile(SESSION_SCRIPT, join(root, "session.sh"));
      const extensionsDir = join(dirs.data, "gnome-shell", "extensions");
      for (const dir of [HELPER_DIRS[options.shell], ...(options.extensions ?? [])]) {
        const metadata = JSON.parse(await readFile(join(dir, "metadata.json"), "utf8")) as { uuid: string };
        await cp(dir, join(extensionsDir, metadata.uuid), { recursive: true });
      }
      await writeFile(join(root, "enabled"), `[${[HELPER_UUID, ...options.enabled].map((uuid) => `'${uuid}'`).join(", ")}]`);
      // Zips are installed as users install them (gnome-extensions install), before the shell starts.
      const zips: string[] = [];
      for (const zip of options.zips ?? []) {
        const inside = join(root, "zips", basename(zip));
        await mkdir(dirname(inside), { recursive: true });
        await copyFile(zip, inside);
        zips.push(inside);
      }
      await writeFile(join(root, "zips.list"), zips.map((zip) => `${zip}\n`).join(""));

      namespace = spawn(
        "unshare",
        ["--mount", "--pid", "--fork", "--kill-child=TERM", "--propagation", "private", "bash", join(root, "session.sh"), "enter", fsRoot, root, MONITOR_SIZE, lang],
        { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? PATH_INSIDE } },
      );
      let namespaceOutput = "";
      const collect = (chunk: Buffer): void => {
        namespaceOutput += chunk.toString("utf8");
      };
      namespace.stdout?.on("data", collect);
      namespace.stderr?.on("data", collect);
      const started = namespace;
      const init = await poll("the session's PID 1", 5000, () => (started.pid ? firstChild(started.pid) : null), () => namespaceOutput);
      const socket = join(dirs.runtime, "bus");
      await poll("the session bus", SHELL_START_TIMEOUT_MS, () => existsSync(socket) || (started.exitCode !== null ? false : null), () => `${namespaceOutput}\n${logOf(root)}`);
      bus = dbus.sessionBus({ busAddress: env.DBUS_SESSION_BUS_ADDRESS });
      const harness = new ShellHarness(options.shell, root, env, bus, namespace, init);
      await harness.#waitUntilStarted();
      return harness;
    } catch (error) {
      bus?.disconnect();
      if (namespace?.pid) {
        const init = firstChild(namespace.pid);
        if (init) killQuietly(init, "SIGKILL");
        killQuietly(namespace.pid, "SIGKILL");
      }
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  async #waitUntilStarted(): Promise<void> {
    const deadline = Date.now() + SHELL_START_TIMEOUT_MS;
    // The bus name appears before /org/gnome/Shell is exported: poll until Eval answers.
    for (;;) {
      if (this.#namespace.exitCode !== null || this.#namespace.signalCode !== null) {
        throw new Error(`gnome-shell's session ended during start-up (${this.#namespace.exitCode ?? this.#namespace.signalCode}):\n${this.log()}`);
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
    // GNOME 45+ put a lock in the top bar while unsafe mode (the test helper's) is on: kept out of
    // the screenshots.
    await this.eval("Main.panel.statusArea.quickSettings?._unsafeMode?.hide(); true");
    await this.waitFor("!Main.overview.visible && !Main.overview.animationInProgress", 10_000);
  }

  /** The session's environment as programs inside its root see it (the shell's Wayland display included). */
  get sessionEnv(): Record<string, string> {
    const inside: Record<string, string> = { PATH: PATH_INSIDE, WAYLAND_DISPLAY: "wayland-0" };
    for (const [key, value] of Object.entries(this.env)) if (key !== "PATH" && value !== undefined) inside[key] = value;
    return inside;
  }

  // Starts a program inside the session (its namespaces and root file system, its environment).
  spawnInSession(command: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
    const env = Object.entries({ ...this.sessionEnv, ...extraEnv }).map(([key, value]) => `${key}=${value}`);
    return spawn("nsenter", ["--target", String(this.#init), "--mount", "--pid", "--root", "--wd", "env", "-i", ...env, command, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
  }

  // Runs a program inside the session to its end; throws with its output if it fails.
  async runInSession(command: string, args: string[]): Promise<string> {
    const child = this.spawnInSession(command, args);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const code = await new Promise<number | null>((done) => child.once("exit", (status) => done(status)));
    if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code} in the shell's session:\n${output}`);
    return output;
  }

  // Starts a program of this machine (its root file system, not the session's) inside the
  // session's PID and mount namespaces, in `cwd`, with exactly `env`: it sees the session's
  // processes only, and the PIDs it reports are the session's (hostPid() translates them). The
  // child returned is nsenter, which forks the program and ends as it ends; programPid() gives the
  // program's own PID, to signal it (nsenter does not pass signals on).
  spawnOnHost(command: string, args: string[], options: { env: Record<string, string>; cwd: string }): ChildProcess {
    const env = Object.entries(options.env).map(([key, value]) => `${key}=${value}`);
    return spawn("nsenter", ["--target", String(this.#init), "--mount", "--pid", "--", "env", "-i", "-C", options.cwd, ...env, command, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  // The PID (on this machine) of the program that spawnOnHost() or spawnInSession() started
  // through `nsenter`, once it has forked it.
  async programPid(nsenter: ChildProcess): Promise<number> {
    return poll("the program nsenter starts", SHELL_START_TIMEOUT_MS, () => (nsenter.pid ? firstChild(nsenter.pid) : null) ?? (nsenter.exitCode !== null ? false : null), () => "");
  }

  // The PID on this machine of the session's process `pid` (a PID as the daemon in the session
  // reports it), or null when the session has no such process.
  hostPid(pid: number): number | null {
    const namespace = pidNamespaceOf(this.#init);
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const ids = nsPids(Number(entry));
      if (ids !== null && ids.length > 1 && ids[ids.length - 1] === pid && pidNamespaceOf(Number(entry)) === namespace) return Number(entry);
    }
    return null;
  }

  // The PID inside the session of one of its processes known by its PID on this machine.
  sessionPid(hostPid: number): number | null {
    const ids = nsPids(hostPid);
    return ids && ids.length > 1 && pidNamespaceOf(hostPid) === pidNamespaceOf(this.#init) ? (ids[ids.length - 1] ?? null) : null;
  }

  // Calls a method on the session bus and returns the reply's body.
  // A call without an answer within CALL_TIMEOUT_MS fails (dbus-next itself waits forever), and
  // says why as far as can be seen: whether the shell's D-Bus thread still answers (Peer.Ping, which
  // GDBus answers off the main loop), whether the bus does, and what the shell process is doing.
  async call(destination: string, path: string, iface: string, member: string, signature = "", body: unknown[] = []): Promise<unknown[]> {
    const started = Date.now();
    try {
      return await this.#callWithin(CALL_TIMEOUT_MS, destination, path, iface, member, signature, body);
    } catch (error) {
      if (!(error instanceof CallTimeoutError)) throw error;
      throw new NoAnswerError(`${destination} ${iface}.${member} did not answer within ${CALL_TIMEOUT_MS} ms (asked at ${new Date(started).toISOString()}); ${await this.#diagnose(destination)}`);
    }
  }

  async #callWithin(ms: number, destination: string, path: string, iface: string, member: string, signature = "", body: unknown[] = []): Promise<unknown[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new CallTimeoutError()), ms);
    });
    try {
      const reply = await Promise.race([this.bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body })), timeout]);
      return reply?.body ?? [];
    } finally {
      clearTimeout(timer);
    }
  }

  // What can be seen of a call that got no answer: the bus, the peer's D-Bus thread, and, for the
  // shell, its process (state, CPU used over a second, where its main thread waits).
  async #diagnose(destination: string): Promise<string> {
    const answers = async (target: string, iface: string, member: string): Promise<string> => {
      const asked = performance.now();
      try {
        await this.#callWithin(DIAGNOSIS_CALL_TIMEOUT_MS, target, target === "org.freedesktop.DBus" ? "/org/freedesktop/DBus" : "/", iface, member);
        return `answered in ${(performance.now() - asked).toFixed(0)} ms`;
      } catch (error) {
        return error instanceof CallTimeoutError ? `no answer within ${DIAGNOSIS_CALL_TIMEOUT_MS} ms` : `error ${(error as Error).message}`;
      }
    };
    const facts = [
      `the bus's GetId ${await answers("org.freedesktop.DBus", "org.freedesktop.DBus", "GetId")}`,
      `${destination}'s Peer.Ping ${await answers(destination, "org.freedesktop.DBus.Peer", "Ping")}`,
      `load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    ];
    const shellPid = this.#shellPid();
    if (shellPid !== null) facts.push(`gnome-shell (PID ${shellPid}): ${await processActivity(shellPid)}`);
    return facts.join("; ");
  }

  // gnome-shell's PID on this machine, or null when it is not running.
  #shellPid(): number | null {
    const namespace = pidNamespaceOf(this.#init);
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "gnome-shell" && pidNamespaceOf(Number(entry)) === namespace) return Number(entry);
      } catch {
        // Gone.
      }
    }
    return null;
  }

  // Evaluates `code` in the shell (as org.gnome.Shell.Eval does: the value of the last
  // expression, through JSON). Throws with the shell's message when the code throws.
  // Each evaluation notes its number and when it began (globalThis.selfhealEvalRan), so that one
  // without an answer can be told apart: begun (late, or long at work), or not begun at all.
  async eval<T = unknown>(code: string): Promise<T> {
    const id = ++this.#evals;
    let reply: unknown[];
    try {
      reply = await this.call("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell", "Eval", "s", [`globalThis.selfhealEvalRan = [${id}, Date.now()];\n${code}`]);
    } catch (error) {
      if (!(error instanceof NoAnswerError)) throw error;
      let ran: string;
      try {
        const [, seen] = (await this.#callWithin(DIAGNOSIS_CALL_TIMEOUT_MS, "org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell", "Eval", "s", ["globalThis.selfhealEvalRan"])) as [boolean, string];
        const [lastId, at] = JSON.parse(seen) as [number, number];
        ran =
          lastId >= id
            ? `the shell began it late or took long over it (evaluation ${lastId} began at ${new Date(at).toISOString()})`
            : `the shell has not begun it (the last evaluation it began is ${lastId}, at ${new Date(at).toISOString()})`;
      } catch (inner) {
        ran = `the shell does not evaluate anything now either (${inner instanceof CallTimeoutError ? "no answer" : String(inner)})`;
      }
      throw new NoAnswerError(`${error.message}; evaluation ${id}: ${ran}\n--- code ---\n${code}`);
    }
    const [success, result] = reply as [boolean, string];
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

  // Opens an extension's preferences as GNOME's preferences service does, in a process this test
  // can look into (fixtures/prefs-driver.js), and waits until the window is filled.
  async openPreferences(uuid: string): Promise<PreferencesWindow> {
    const driver = join(this.root, "prefs-driver.js");
    await copyFile(PREFS_DRIVER, driver);
    const child = this.spawnInSession("gjs", ["-m", driver, uuid], { GI_TYPELIB_PATH: SHELL_PRIVATE_TYPELIBS, GTK_A11Y: "none" });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const window = new PreferencesWindow(this, child, () => output);
    const deadline = Date.now() + PREFS_START_TIMEOUT_MS;
    for (;;) {
      const [owned] = (await this.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", [PREFS_PROBE_NAME])) as [boolean];
      if (owned) return window;
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`the preferences of ${uuid} did not open (${child.exitCode ?? "timeout"}):\n${output}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  // The shell writes screenshots inside its root: into the session's folder, then copied out.
  async #screenshot(file: string, method: string, signature: string, args: unknown[]): Promise<void> {
    const inside = join(this.root, "shots", basename(file));
    const [success, used] = (await this.call(
      "org.gnome.Shell.Screenshot",
      "/org/gnome/Shell/Screenshot",
      "org.gnome.Shell.Screenshot",
      method,
      signature,
      [...args, false, inside],
    )) as [boolean, string];
    if (!success) throw new Error(`${method} to ${file} failed (${used})`);
    await mkdir(dirname(resolve(file)), { recursive: true });
    await copyFile(inside, resolve(file));
  }

  // Saves a PNG of the whole screen.
  async screenshot(file: string): Promise<void> {
    await this.#screenshot(file, "Screenshot", "bbs", [false]);
  }

  // Saves a PNG of one area of the screen, in logical pixels.
  async screenshotArea(file: string, area: { x: number; y: number; width: number; height: number }): Promise<void> {
    const { x, y, width, height } = area;
    await this.#screenshot(file, "ScreenshotArea", "iiiibs", [x, y, width, height].map(Math.round));
  }

  /** Everything the shell printed so far. */
  log(): string {
    return logOf(this.root);
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

  /** Lines of the shell's log that name an extension's uuid (its errors and warnings). */
  linesAbout(uuid: string): string[] {
    return this.log().split("\n").filter((line) => line.includes(uuid));
  }

  // Stops the shell: SIGTERM to the session's PID 1, which ends the shell and then everything
  // else in the namespace; then removes the session's folder.
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.bus.disconnect();
    killQuietly(this.#init);
    if (!(await exited(this.#namespace, SHELL_STOP_TIMEOUT_MS))) {
      killQuietly(this.#init, "SIGKILL");
      await exited(this.#namespace, SHELL_STOP_TIMEOUT_MS);
    }
    const rc = Number(await readFile(join(this.root, "shell.rc"), "utf8").catch(() => "NaN"));
    this.exitCode = rc;
    await rm(this.root, { recursive: true, force: true });
  }

  /** gnome-shell's exit status once stopped (0, or 139 for GNOME 43's teardown segfault). */
  exitCode: number | null = null;

  /** Whether gnome-shell ended as a shell that was asked to stop does. */
  get stoppedCleanly(): boolean {
    return this.exitCode === 0 || this.exitCode === SHELL_TEARDOWN_SEGFAULT;
  }
}

/** An extension's preferences window, opened by ShellHarness.openPreferences(). */
export class PreferencesWindow {
  #shell: ShellHarness;
  #driver: ChildProcess;
  #output: () => string;

  constructor(shell: ShellHarness, driver: ChildProcess, output: () => string) {
    this.#shell = shell;
    this.#driver = driver;
    this.#output = output;
  }

  // Evaluates `code` in the preferences' process (where `prefs` and `dialog` are in scope; a
  // promise is awaited) and returns its value through JSON.
  async eval<T = unknown>(code: string): Promise<T> {
    const [success, result] = (await this.#shell.call(PREFS_PROBE_NAME, PREFS_PROBE_PATH, PREFS_PROBE_NAME, "Eval", "s", [code])) as [boolean, string];
    if (!success) throw new Error(`Eval in the preferences failed: ${result}\n--- code ---\n${code}`);
    return JSON.parse(result) as T;
  }

  /** What the preferences' process printed: its JS errors and warnings. */
  output(): string {
    return this.#output();
  }

  // Closes the window (its close-request ends the process) and waits for the process to end.
  async close(): Promise<void> {
    if (this.#driver.exitCode !== null) return;
    await this.eval("dialog.close(), true").catch(() => undefined);
    if (!(await exited(this.#driver, SHELL_STOP_TIMEOUT_MS))) this.#driver.kill("SIGKILL");
  }
}

/** A call that got no answer in time (told apart from an error reply). */
class CallTimeoutError extends Error {}

/** A call that got no answer: its message says what could be seen of why. */
export class NoAnswerError extends Error {}

// The PID namespace a process is in (its /proc/PID/ns/pid link), or null when it is gone.
function pidNamespaceOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

// A process's PIDs from the outermost namespace to its own (the NSpid line of its status).
function nsPids(pid: number): number[] | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((candidate) => candidate.startsWith("NSpid:"));
    return line ? line.slice("NSpid:".length).trim().split(/\s+/).map(Number) : null;
  } catch {
    return null;
  }
}

// What a process does: its state, the CPU it used over one second, and where its main thread waits.
async function processActivity(pid: number): Promise<string> {
  const cpuTicks = (): number | null => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return null;
    }
  };
  const read = (file: string): string => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, "utf8").trim();
    } catch {
      return "?";
    }
  };
  const before = cpuTicks();
  await sleep(1000);
  const after = cpuTicks();
  if (before === null || after === null) return "gone";
  const state = read("stat").replace(/^.*\) /, "").split(" ")[0];
  return `state ${state}, ${after - before} CPU ticks of 100 in the last second, main thread ${["", "0"].includes(read("wchan")) ? "running" : `waiting in ${read("wchan")}`} (syscall ${read("syscall").split(" ")[0]})`;
}

// The shell's log (stdout and stderr, and the buses' complaints) so far.
function logOf(root: string): string {
  try {
    return readFileSync(join(root, "shell.log"), "utf8");
  } catch {
    return "";
  }
}

// Calls `check` every POLL_INTERVAL_MS until it returns a value (not null); false means it can never
// come (throws at once), and so does the timeout; `context` adds what to show with the error.
async function poll<T>(what: string, timeoutMs: number, check: () => T | false | null, context: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value === false) throw new Error(`${what} never came:\n${context()}`);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${context()}`);
    await sleep(POLL_INTERVAL_MS);
  }
}
