// Runs the real, built daemon for an integration test: private config and
// state folders, a private session bus, and the event log to watch.
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { SENTINEL_NAME } from "../../daemon/sentinel/name.js";
import { DEFAULT_WAIT_MS, killProgramsIn, makeTempDir as makeTestDir, startPrivateBus, waitUntil as waitFor, type PrivateBus } from "./bus.js";
import { DAEMON_JS, DAEMON_NODE, daemonNodeFlags, daemonShebangEnv } from "./command.js";

export { DAEMON_JS, daemonNodeFlags, makeTestDir, waitFor };

/** How long a daemon may take to say it is ready (its first scan and autostarts) on a loaded machine. */
const DAEMON_READY_MS = 30_000;

/** How long a launcher left running by a killed daemon may take to start what it launches. */
const LAUNCHER_SETTLE_MS = 300;

/** A tmpfs, as a session's runtime folder is. */
const SHM = "/dev/shm";

export interface RunningDaemon {
  dir: string;
  configPath: string;
  stateDir: string;
  /** $XDG_RUNTIME_DIR/selfheal: where the keepers record the programs they hold. */
  runtimeDir: string;
  /** The private session bus the daemon serves on. */
  bus: PrivateBus;
  env: NodeJS.ProcessEnv;
  process: ChildProcess;
  /** Everything the daemon wrote to stderr so far. */
  stderr(): string;
  events(): EngineEvent[];
  waitForEvent<K extends EngineEvent["kind"]>(
    kind: K,
    match?: (event: Extract<EngineEvent, { kind: K }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<EngineEvent, { kind: K }>>;
  writeConfig(text: string): void;
  /** Stop the daemon with a signal and wait for it to end; returns its exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
  /** Start the daemon again on the same folders (after a stop). */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

/** A test folder with a copy of /bin/sleep under a name no other process has. */
export function uniqueSleep(dir: string, name: string): string {
  const path = join(dir, name);
  copyFileSync("/bin/sleep", path);
  return path;
}


export interface StartDaemonOptions {
  /** The test's folder (config, state and runtime folders go under it); a new one by default. */
  dir?: string;
  /** Extra arguments after `daemon` (e.g. --no-keeper). */
  args?: string[];
  /** Node.js flags after the #! line's own (e.g. --cpu-prof for a benchmark's profile). */
  nodeFlags?: string[];
  /** The built daemon to run: dist/selfheal.js, or a copy of it elsewhere (without the programs built beside it). */
  daemonFile?: string;
}

export async function startDaemon(config: string, options: StartDaemonOptions = {}): Promise<RunningDaemon> {
  const dir = options.dir ?? makeTestDir("daemon");
  const configDir = join(dir, "config", "selfheal");
  mkdirSync(configDir, { recursive: true });
  const configPath = join(configDir, "config.toml");
  writeFileSync(configPath, config);
  const stateDir = join(dir, "state", "selfheal");
  // A session's runtime folder is a tmpfs (/run/user/UID): the keepers' records go to one here too when there is one.
  const runtimeBase = existsSync(SHM) ? mkdtempSync(join(SHM, "selfheal-runtime-")) : join(dir, "runtime");
  const bus = await startPrivateBus();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...daemonShebangEnv(),
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_STATE_HOME: join(dir, "state"),
    XDG_RUNTIME_DIR: runtimeBase,
    DBUS_SESSION_BUS_ADDRESS: bus.address,
  };
  let stderr = "";
  let child!: ChildProcess;
  const launch = async (): Promise<void> => {
    // Ready once THIS run says so: after a restart, stderr still holds the earlier run's lines.
    const from = stderr.length;
    child = spawn(DAEMON_NODE, [...daemonNodeFlags(), ...(options.nodeFlags ?? []), options.daemonFile ?? DAEMON_JS, "daemon", ...(options.args ?? [])], { env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Ready once it says what it watches (the first scan is done and the autostart programs started by then).
    try {
      await waitFor(() => stderr.slice(from).includes("selfheal: watching"), DAEMON_READY_MS, () => `daemon did not start:\n${stderr}`);
    } catch (error) {
      // A daemon slow or stuck while starting is not left running (and restarting its programs) behind the failed test.
      if (child.exitCode === null && child.signalCode === null) {
        const ended = new Promise((done) => child.once("exit", done));
        child.kill("SIGKILL");
        await ended;
      }
      throw error;
    }
  };
  try {
    await launch();
  } catch (error) {
    killProgramsIn(dir);
    await bus.stop();
    rmSync(runtimeBase, { recursive: true, force: true });
    throw error;
  }

  const events = (): EngineEvent[] => {
    let text = "";
    try {
      text = readFileSync(join(stateDir, "events.jsonl"), "utf8");
    } catch {
      return [];
    }
    return text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as EngineEvent];
        } catch {
          return [];
        }
      });
  };

  const daemon: RunningDaemon = {
    dir,
    configPath,
    stateDir,
    runtimeDir: join(runtimeBase, "selfheal"),
    bus,
    env,
    get process() {
      return child;
    },
    stderr: () => stderr,
    events,
    async waitForEvent(kind, match = () => true, timeoutMs = DEFAULT_WAIT_MS) {
      let found: EngineEvent | undefined;
      await waitFor(
        () => {
          found = events().find((event) => event.kind === kind && match(event as never));
          return found !== undefined;
        },
        timeoutMs,
        () => `no ${kind} event within ${timeoutMs} ms; events:\n${events().map((e) => e.message).join("\n")}\nstderr:\n${stderr}`,
      );
      return found as never;
    },
    writeConfig(text) {
      writeFileSync(configPath, text);
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      const ended = new Promise<number | string | null>((done) => child.once("exit", (code, sig) => done(code ?? sig)));
      child.kill(signal);
      return ended;
    },
    async restart() {
      await daemon.stop();
      await launch();
    },
    async cleanup() {
      // The daemon first, so that it restarts nothing; then every program it started (and only those).
      await daemon.stop("SIGKILL");
      const started = events().flatMap((e) => (e.kind === "started" || e.kind === "adopted" ? [e.pid] : e.kind === "restarted" || e.kind === "followed" ? [e.newPid] : []));
      killQuietly(started);
      // Copies of programs in the test's folder that no event named (a duplicate nobody watched); again a moment
      // later, for one that a launcher (a shell, not in the folder) was still starting at the first sweep.
      killProgramsIn(dir);
      await new Promise((done) => setTimeout(done, LAUNCHER_SETTLE_MS));
      killProgramsIn(dir);
      await bus.stop();
      rmSync(dir, { recursive: true, force: true });
      rmSync(runtimeBase, { recursive: true, force: true });
    },
  };
  return daemon;
}


/** True while a process with this pid exists (and is not a zombie). */
// The daemon's sentinel processes (its children named selfheal-sentinel, of which the kernel keeps 15 characters).
export function sentinelsOf(pid: number): number[] {
  const comm = SENTINEL_NAME.slice(0, 15);
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "latin1").trim().split(" ").filter(Boolean).map(Number);
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/comm`, "latin1").trim() === comm;
    } catch {
      return false;
    }
  });
}

export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Kill a test's own leftovers by pid, ignoring those already gone. */
export function killQuietly(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}
