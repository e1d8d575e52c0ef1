// A booted systemd container (scripts/systemd-user-container.sh) for install.sh's end-to-end tests:
// a Debian 13 (or 12) system with the user "tester" (uid 1000), a lingering `systemd --user` and its
// session bus, this checkout seen read-only at /src. Commands run as tester with the session's
// environment, or as root.
//
//   const box = await startContainer({ node: DAEMON_NODE });
//   const box = await startContainer({ suite: "bookworm", node: "none", aptCache: true });
//   box.mustAsUser("selfheal status");
//   ... finally: box.stop();
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./bus.js";

const CONTAINER = join(REPO, "scripts/systemd-user-container.sh");
/** Booting systemd and the user manager on a loaded machine; a clean halt; one command inside. */
export const CONTAINER_BOOT_MS = 120_000;
export const TESTER_HOME = "/home/tester";

/** The config both container tests install: one program, a copy of sleep in ~/bin under `program`'s name, restarted when it crashes. */
export function watchedProgramConfig(program: string): string {
  return `[settings]
interval = 0.5

[process.${program}]
command = ["${TESTER_HOME}/bin/${program}", "infinity"]
autostart = true
restart = "on-failure"
`;
}
/** Where the checkout is seen inside (read-only). */
export const CHECKOUT_INSIDE = "/src";

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface ContainerOptions {
  /** The Debian release booted: "trixie" (Debian 13, systemd 257; the default) or "bookworm" (Debian 12, systemd 252). */
  suite?: "bookworm" | "trixie";
  /** The Node.js binary seen inside as /usr/local/bin/node, or "none" for no Node.js at all. */
  node: string;
  /** Keep what apt downloads inside between runs (under ~/.cache/selfheal/container-apt). */
  aptCache?: boolean;
}

export interface Container {
  dir: string;
  /** A shell command as tester, with the session's environment (XDG_RUNTIME_DIR, the session bus). */
  asUser(script: string, timeoutMs?: number): Result;
  /** The same, which must succeed; its stdout. */
  mustAsUser(script: string, timeoutMs?: number): string;
  /** A shell command as root, which must succeed; its stdout. */
  mustAsRoot(script: string, timeoutMs?: number): string;
  /** Halt it and remove its folder. */
  stop(): void;
}

function run(dir: string, who: "user" | "root", script: string, timeoutMs: number): Result {
  const result = spawnSync("bash", [CONTAINER, who, dir, "bash", "-c", script], { encoding: "utf8", timeout: timeoutMs });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function must(result: Result, who: string, script: string): string {
  if (result.status !== 0) throw new Error(`in the container, as ${who}: ${script}\nexit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

// Boot a container whose changes live in a fresh temporary folder.
export function startContainer(options: ContainerOptions): Container {
  const dir = mkdtempSync(join(tmpdir(), "selfheal-systemd-"));
  const env: NodeJS.ProcessEnv = { ...process.env, SELFHEAL_CONTAINER_BIND_RO: `${REPO}:${CHECKOUT_INSIDE}`, SELFHEAL_CONTAINER_NODE: options.node };
  if (options.suite) env.SELFHEAL_CONTAINER_SUITE = options.suite;
  if (options.aptCache) env.SELFHEAL_CONTAINER_APT_CACHE = "1";
  try {
    execFileSync("bash", [CONTAINER, "start", dir], { env, stdio: ["ignore", "inherit", "inherit"], timeout: CONTAINER_BOOT_MS });
  } catch (error) {
    execFileSync("bash", [CONTAINER, "stop", dir], { stdio: "inherit", timeout: CONTAINER_BOOT_MS });
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    asUser: (script, timeoutMs = CONTAINER_BOOT_MS) => run(dir, "user", script, timeoutMs),
    mustAsUser: (script, timeoutMs = CONTAINER_BOOT_MS) => must(run(dir, "user", script, timeoutMs), "tester", script),
    mustAsRoot: (script, timeoutMs = CONTAINER_BOOT_MS) => must(run(dir, "root", script, timeoutMs), "root", script),
    stop() {
      execFileSync("bash", [CONTAINER, "stop", dir], { stdio: "inherit", timeout: CONTAINER_BOOT_MS });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Copy the checkout into tester's home as a user has it, built (npm run build ran before the
// tests), without node_modules; and tester's config.toml.
export function copyCheckout(box: Container, checkout: string, config: string): void {
  box.mustAsUser(
    `mkdir -p ${checkout} ${TESTER_HOME}/.config/selfheal && ` +
      `tar -C ${CHECKOUT_INSIDE} -cf - install.sh dist dbus docs completions README.md LICENSE | tar -C ${checkout} -xf - && ` +
      `cat > ${TESTER_HOME}/.config/selfheal/config.toml <<'EOF'\n${config}EOF`,
  );
}

// The PID of the watched program NAME as the daemon inside reports it (0 when not running).
export function watchedPid(box: Container, name: string): number {
  const status = JSON.parse(box.mustAsUser("selfheal status --json")) as { processes: { name: string; pid: number }[] };
  return status.processes.find((p) => p.name === name)?.pid ?? 0;
}

/** How long a condition inside the container may take to come true (a restart, an activation). */
const CONDITION_WAIT_MS = 30_000;
const POLL_MS = 200;

// Poll `probe` until it gives a value (not undefined or false); throws naming `what` after a deadline.
export async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + CONDITION_WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${CONDITION_WAIT_MS / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
