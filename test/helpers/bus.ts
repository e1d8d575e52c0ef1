// Integration tests on the session bus: a private dbus-daemon per test file,
// the real built daemon (`node dist/selfheal.js daemon`) on it with private
// XDG config and state folders, and clients that drive it the way users do
// (busctl, gdbus, a dbus-next client, the selfheal command line).
//
//   const bus = await startPrivateBus();
//   const daemon = await startSelfheal(bus, { config: `[process.x]\ncommand = [...]` });
//   const client = await connectClient(bus);
//   await client.call("ListProcesses");
//   await client.signals.waitFor("ProcessCrashed", (args) => args[0] === "x");
//   const { stdout } = await busctl(bus, ["call", BUS_NAME, OBJECT_PATH, MANAGER_INTERFACE, "ListProcesses"]);
//   ... finally: await client.close(); await daemon.stop(); await bus.stop();
//
// Only the processes a test starts are ever signalled: programs are copies of
// /bin/sleep under unique names in the test's folder (testProgram), and
// killProgramsIn(dir) ends just those.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import dbus, { type MessageBus } from "dbus-next";
import { DAEMON_JS, DAEMON_NODE, daemonNodeFlags, daemonShebangEnv } from "./command.js";

export const REPO = resolve(import.meta.dirname, "../..");
/** The built daemon: `npm run build` makes it. */
export { DAEMON_JS, DAEMON_NODE };
export const INTERFACE_XML = join(REPO, "dbus/io.github.SelfHeal1.Manager.xml");
export const BUS_NAME = "io.github.SelfHeal1";
export const OBJECT_PATH = "/io/github/SelfHeal1";
export const MANAGER_INTERFACE = "io.github.SelfHeal1.Manager";

/**
 * How long helpers wait for a process, a name or a signal unless told otherwise: a deadline
 * for what never comes, not a budget (a loaded 2-core machine can take tens of seconds).
 */
export const DEFAULT_WAIT_MS = 45_000;
const POLL_MS = 20;

// A fresh folder under the system's temp dir.
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `selfheal-${prefix}-`));
}

// Poll `check` until it is true; throws `describe()` after `timeoutMs`.
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// ---- the private bus ----

export interface PrivateBus {
  address: string;
  pid: number;
  /** The bus's own folder (socket, config). */
  dir: string;
  /** process.env with DBUS_SESSION_BUS_ADDRESS pointing at this bus. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export interface PrivateBusOptions {
  /** Folders holding D-Bus activation (.service) files; none by default. */
  serviceDirs?: string[];
  /** Environment for dbus-daemon, which activated services inherit. */
  env?: NodeJS.ProcessEnv;
}

// A session-type bus config: a private socket, EXTERNAL auth, everything allowed, and only the given service dirs.
// `listen` is a D-Bus address (a socket in socketDir unless given).
export function busConfig(socketDir: string, serviceDirs: readonly string[], listen = `unix:dir=${socketDir}`): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>${listen}</listen>
  <auth>EXTERNAL</auth>
${serviceDirs.map((dir) => `  <servicedir>${dir}</servicedir>`).join("\n")}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <limit name="service_start_timeout">30000</limit>
</busconfig>
`;
}

// Start a private session bus (`dbus-daemon --print-address` on a config of our own, so no
// service installed on the machine can be activated by accident).
export async function startPrivateBus(options: PrivateBusOptions = {}): Promise<PrivateBus> {
  const dir = makeTempDir("bus");
  const configPath = join(dir, "session.conf");
  writeFileSync(configPath, busConfig(dir, options.serviceDirs ?? []));
  const child = spawn("dbus-daemon", [`--config-file=${configPath}`, "--nofork", "--print-address=1"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: options.env ?? process.env,
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const address = await new Promise<string>((resolveAddress, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolveAddress(text.split("\n")[0]!.trim());
    });
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`dbus-daemon exited with ${code}: ${stderr}`)));
  });
  return {
    address,
    pid: child.pid!,
    dir,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: address },
    async stop() {
      await stopChild(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Signal a child and wait for it to end (SIGKILL after a while).
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode };
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once("exit", (code, sig) => done({ code, signal: sig })));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), DEFAULT_WAIT_MS);
  const result = await ended;
  clearTimeout(timer);
  return result;
}

// ---- the daemon ----

export interface SelfhealOptions {
  /** config.toml's text (none: no config file). */
  config?: string;
  /** Use these folders instead of a new temp folder (e.g. to start a second daemon on the same state). */
  root?: string;
  /** Extra arguments after `daemon`. */
  args?: string[];
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
  /** Wait until the daemon serves the bus (default); false returns at once (to watch it fail). */
  waitUntilReady?: boolean;
  /** Start the daemon through this command (its argv is appended), e.g. a launcher that stays its parent. */
  via?: string[];
  /** The built daemon file to run (default: dist/selfheal.js), e.g. a copy alone in a folder. */
  daemonFile?: string;
}

export interface SelfhealDaemon {
  /** The process started: the daemon, or the `via` command in front of it. */
  process: ChildProcess;
  pid: number;
  /** The temp folder holding config/ and state/. */
  root: string;
  configPath: string;
  /** $XDG_STATE_HOME/selfheal. */
  stateDir: string;
  env: NodeJS.ProcessEnv;
  stderr(): string;
  /** Resolves when the daemon ends, with its exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (or the given signal) and wait for the end. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Stop every watched program through the daemon (so nothing restarts it),
   * kill what still runs from `programsDir` while the daemon can still reap
   * its children, then stop the daemon and remove its folders. The daemon
   * leaves programs running when it stops, so this order matters.
   */
  cleanup(programsDir?: string): Promise<void>;
}

/** The line the daemon writes once it owns the name and its engine has made the first scan. */
export const READY_LINE = "selfheal: watching";

// The environment a daemon gets: private XDG folders under `root` (the keepers' records too), the bus's address.
export function daemonEnv(bus: PrivateBus, root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...bus.env,
    ...daemonShebangEnv(),
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_STATE_HOME: join(root, "state"),
    XDG_DATA_HOME: join(root, "data"),
    XDG_RUNTIME_DIR: join(root, "runtime"),
    ...extra,
  };
}

// Write config.toml under `root` as the daemon will find it.
export function writeConfig(root: string, text: string): string {
  const dir = join(root, "config", "selfheal");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "config.toml");
  writeFileSync(path, text);
  return path;
}

// Start the built daemon on a private bus; by default resolves once it serves io.github.SelfHeal1.
export async function startSelfheal(bus: PrivateBus, options: SelfhealOptions = {}): Promise<SelfhealDaemon> {
  const root = options.root ?? makeTempDir("daemon");
  const configPath = options.config === undefined ? join(root, "config", "selfheal", "config.toml") : writeConfig(root, options.config);
  const env = daemonEnv(bus, root, options.env);
  const argv = [DAEMON_NODE, ...daemonNodeFlags(), options.daemonFile ?? DAEMON_JS, "daemon", ...(options.args ?? [])];
  const [command, ...args] = [...(options.via ?? []), ...argv] as [string, ...string[]];
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once("exit", (code, signal) => done({ code, signal })));
  const daemon: SelfhealDaemon = {
    process: child,
    pid: child.pid!,
    root,
    configPath,
    stateDir: join(root, "state", "selfheal"),
    env,
    stderr: () => stderr,
    exited,
    stop: (signal = "SIGTERM") => stopChild(child, signal),
    async cleanup(programsDir) {
      if (child.exitCode === null && child.signalCode === null) await stopWatchedPrograms(bus);
      if (programsDir !== undefined) {
        killProgramsIn(programsDir);
        await waitUntil(() => programsIn(programsDir).length === 0, DEFAULT_WAIT_MS, () => `programs of ${programsDir} still run`).catch(() => undefined);
      }
      await stopChild(child, "SIGTERM");
      if (options.root === undefined) rmSync(root, { recursive: true, force: true });
    },
  };
  if (options.waitUntilReady !== false) {
    let ended = false;
    void exited.then(() => (ended = true));
    try {
      await waitUntil(() => ended || stderr.includes(READY_LINE), DEFAULT_WAIT_MS, () => `the daemon did not get ready:\n${stderr}`);
    } catch (error) {
      // A daemon stuck while starting is not left running behind the failed test.
      await stopChild(child, "SIGKILL");
      throw error;
    }
    if (ended) throw new Error(`the daemon exited while starting:\n${stderr}`);
  }
  return daemon;
}

// StopProcess every running policy of the daemon on `bus` (best effort: a protected one stays).
async function stopWatchedPrograms(bus: PrivateBus): Promise<void> {
  let client: BusClient | null = null;
  try {
    client = await connectClient(bus);
    const [records] = await client.call("ListProcesses");
    for (const record of plain(records) as Array<{ name: string; pid: number }>) {
      if (record.pid > 0) await client.call("StopProcess", "s", [record.name]).catch(() => undefined);
    }
  } catch {
    // no daemon on the bus (it failed, or another owns the name): nothing of ours to stop
  } finally {
    client?.close();
  }
}

// ---- programs for the daemon to watch ----

// A copy of /bin/sleep named `name` in `dir`: a program no other process on the machine runs.
export function testProgram(dir: string, name: string): string {
  const path = join(dir, name);
  copyFileSync("/bin/sleep", path);
  return path;
}

// The PIDs of processes whose executable lies in `dir` (the test's own programs).
export function programsIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/exe`).startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

// SIGKILL every process running a program from `dir`; only a test's own copies live there.
export function killProgramsIn(dir: string): void {
  for (const pid of programsIn(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

// ---- clients ----

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Run a program with the bus's address in its environment.
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = DEFAULT_WAIT_MS): Promise<CommandResult> {
  return new Promise((resolveRun) => {
    execFile(command, [...args], { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolveRun({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

// `busctl --user ARGS` against the private bus.
export function busctl(bus: PrivateBus, args: readonly string[]): Promise<CommandResult> {
  return run("busctl", ["--user", ...args], bus.env);
}

// `gdbus ARGS` (with --session where it belongs) against the private bus.
export function gdbus(bus: PrivateBus, args: readonly string[]): Promise<CommandResult> {
  return run("gdbus", [...args], bus.env);
}

// The command line client: `node dist/selfheal.js ARGS`.
export function selfheal(bus: PrivateBus, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CommandResult> {
  return run(DAEMON_NODE, [DAEMON_JS, ...args], { ...bus.env, ...env });
}

/** A received signal of the Manager interface. */
export interface ReceivedSignal {
  member: string;
  args: unknown[];
  /** performance.now() when it arrived. */
  at: number;
}

/** Every Manager signal (and PropertiesChanged) since the client connected, and a way to wait for more. */
export class SignalRecorder {
  readonly received: ReceivedSignal[] = [];
  private waiters = new Set<() => void>();

  record(signal: ReceivedSignal): void {
    this.received.push(signal);
    for (const wake of this.waiters) wake();
  }

  // The first signal `member` (received already or later) whose arguments pass `match`.
  async waitFor(member: string, match: (args: unknown[]) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<ReceivedSignal> {
    const find = (): ReceivedSignal | undefined => this.received.find((signal) => signal.member === member && match(signal.args));
    const found = find();
    if (found) return found;
    return new Promise((resolveSignal, reject) => {
      const check = (): void => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolveSignal(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${member} signal within ${timeoutMs} ms; received: ${this.received.map((signal) => signal.member).join(", ") || "none"}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  clear(): void {
    this.received.length = 0;
  }
}

export interface BusClient {
  bus: MessageBus;
  signals: SignalRecorder;
  /** Call a Manager method; resolves with the reply body (dbus-next values: Variants, bigints). */
  call(member: string, signature?: string, body?: unknown[]): Promise<unknown[]>;
  /** Call any interface's method on the daemon's object. */
  callOn(iface: string, member: string, signature?: string, body?: unknown[]): Promise<unknown[]>;
  /** The Manager interface through dbus-next's proxy (built from the daemon's Introspect). */
  manager(): Promise<dbus.ClientInterface>;
  close(): void;
}

// Connect a dbus-next client to the private bus and record every signal the daemon sends.
export async function connectClient(bus: PrivateBus): Promise<BusClient> {
  const connection = dbus.sessionBus({ busAddress: bus.address });
  await new Promise<void>((resolveConnect, reject) => {
    connection.once("connect", () => resolveConnect());
    connection.once("error", reject);
  });
  connection.on("error", () => undefined);
  const signals = new SignalRecorder();
  const addMatch = (rule: string): Promise<unknown> =>
    connection.call(
      new dbus.Message({ destination: "org.freedesktop.DBus", path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus", member: "AddMatch", signature: "s", body: [rule] }),
    );
  await addMatch(`type='signal',path='${OBJECT_PATH}'`);
  connection.on("message", (msg: dbus.Message) => {
    if (msg.type === dbus.MessageType.SIGNAL && msg.path === OBJECT_PATH) signals.record({ member: msg.member, args: msg.body, at: performance.now() });
  });
  const callOn = async (iface: string, member: string, signature = "", body: unknown[] = []): Promise<unknown[]> => {
    const reply = await connection.call(new dbus.Message({ destination: BUS_NAME, path: OBJECT_PATH, interface: iface, member, signature, body }));
    return reply?.body ?? [];
  };
  return {
    bus: connection,
    signals,
    call: (member, signature, body) => callOn(MANAGER_INTERFACE, member, signature, body),
    callOn,
    async manager() {
      const object = await connection.getProxyObject(BUS_NAME, OBJECT_PATH);
      return object.getInterface(MANAGER_INTERFACE);
    },
    close: () => connection.disconnect(),
  };
}

// Unpack dbus-next values (Variants, bigints) into plain ones, for assertions.
export function plain(value: unknown): unknown {
  if (value instanceof dbus.Variant) return plain(value.value);
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]));
  return value;
}

// The Variant type of each key of an a{sv} record, e.g. { name: "s", pid: "u" }.
export function typesOf(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, value instanceof dbus.Variant ? value.signature : typeof value]));
}

/** The keys of a ListProcesses / GetProcess record and their D-Bus types, as the contract fixes them. */
export const PROCESS_RECORD_TYPES = {
  name: "s",
  pid: "u",
  state: "s",
  cpu_percent: "d",
  rss_bytes: "t",
  cpu_limit: "d",
  memory_limit_bytes: "t",
  restarts: "u",
  cooldown_remaining: "d",
  managed: "b",
} as const;

/** config.toml's [settings] for a daemon that scans five times a second. */
export const FAST_SETTINGS = "[settings]\ninterval = 0.2\n";

/** A ListProcesses / GetProcess record as plain values. */
export interface ProcessRecord {
  name: string;
  pid: number;
  state: string;
  cpu_percent: number;
  rss_bytes: number;
  cpu_limit: number;
  memory_limit_bytes: number;
  restarts: number;
  cooldown_remaining: number;
  managed: boolean;
  [key: string]: unknown;
}

// GetProcess(name) as plain values.
export async function processOf(client: BusClient, name: string): Promise<ProcessRecord> {
  const [record] = await client.call("GetProcess", "s", [name]);
  return plain(record) as ProcessRecord;
}

// Wait until GetProcess(name) passes `check`; resolves with that record.
export async function waitForProcess(client: BusClient, name: string, check: (record: ProcessRecord) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<ProcessRecord> {
  let last: ProcessRecord | null = null;
  await waitUntil(
    async () => {
      last = await processOf(client, name);
      return check(last);
    },
    timeoutMs,
    () => `${name} never reached the expected state; last record: ${JSON.stringify(last)}`,
  );
  return last!;
}

// The PID of the connection owning `name` on the bus (GetConnectionUnixProcessID).
export async function ownerPidOf(connection: MessageBus, name = BUS_NAME): Promise<number> {
  const reply = await connection.call(
    new dbus.Message({
      destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus",
      interface: "org.freedesktop.DBus",
      member: "GetConnectionUnixProcessID",
      signature: "s",
      body: [name],
    }),
  );
  return reply?.body[0] as number;
}

// The D-Bus error a call ends with (fails the test if it succeeds).
export async function errorOf(promise: Promise<unknown>): Promise<{ type: string; text: string }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof dbus.DBusError) return { type: error.type, text: error.text };
    throw error;
  }
  throw new Error("the call succeeded but should have failed");
}

// ---- a whole scene: folder, programs, bus, daemon, client ----

export interface SceneOptions<P extends string = never> {
  /** The temp folder's name prefix. */
  prefix: string;
  /** Test programs to copy into the folder: key -> file name (see testProgram). */
  programs?: Record<P, string>;
  /** Runs once the programs exist, before the bus starts. */
  prepare?(dir: string, programs: Record<P, string>): void;
  /** config.toml's text, given the programs' paths and the folder; `false`: start no daemon. */
  config?: string | false | ((programs: Record<P, string>, dir: string) => string);
  /** More options for startSelfheal. */
  daemon?: Omit<SelfhealOptions, "config">;
}

export interface Scene<P extends string = never> {
  dir: string;
  bus: PrivateBus;
  /** The daemon started (undefined with `config: false`). */
  daemon: SelfhealDaemon;
  client: BusClient;
  /** The programs' paths, by key. */
  programs: Record<P, string>;
  /**
   * Close the client, clean up the daemon (its programs stopped first), kill
   * what still runs from the folder, stop the bus and remove the folder. A test
   * that replaced the daemon or the client passes the ones now in use.
   */
  close(current?: { daemon?: SelfhealDaemon; client?: BusClient }): Promise<void>;
}

// A temp folder with test programs, a private bus, the daemon on it and a client;
// what started is cleaned up again if a later step fails.
//
//   beforeAll(async () => ({ dir, bus, daemon, client, close } = await startScene({ prefix: "x", programs: { a: "prog-a" }, config: (p) => `...${p.a}...` })));
//   afterAll(() => close?.());
export async function startScene<P extends string = never>(options: SceneOptions<P>): Promise<Scene<P>> {
  const dir = makeTempDir(options.prefix);
  const programs = Object.fromEntries(Object.entries<string>(options.programs ?? ({} as Record<P, string>)).map(([key, name]) => [key, testProgram(dir, name)])) as Record<P, string>;
  let bus: PrivateBus | undefined;
  let daemon: SelfhealDaemon | undefined;
  let client: BusClient | undefined;
  const close = async (current: { daemon?: SelfhealDaemon; client?: BusClient } = {}): Promise<void> => {
    (current.client ?? client)?.close();
    await (current.daemon ?? daemon)?.cleanup(dir);
    killProgramsIn(dir);
    await bus?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    options.prepare?.(dir, programs);
    bus = await startPrivateBus();
    const config = typeof options.config === "function" ? options.config(programs, dir) : options.config;
    if (config !== false) daemon = await startSelfheal(bus, { ...options.daemon, config });
    client = await connectClient(bus);
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, bus, daemon: daemon!, client, programs, close };
}
