// End to end, shared by every shell the extension is tested in (shell48.e2e.test.ts,
// shell43.e2e.test.ts): one build of the extension, installed from its zip as users install it,
// in a real, headless gnome-shell, with the real daemon (`node dist/selfheal.js daemon`) on the
// same private session bus, watching real programs. It crashes one, checks the indicator, opens
// the menu and checks each view against what the daemon reports over D-Bus, presses a restart, a
// cooldown reset and the zombie cleanup, stops and restarts the daemon, edits policies in the
// preferences, saves a screenshot of each view (into test-output/screenshots/<shell>/, or
// docs/screenshots/<shell>/ with SELFHEAL_UPDATE_SCREENSHOTS=1), cycles enable/disable 50 times
// looking for leftovers, and fails on any JS ERROR or extension error. Figures are printed, not
// asserted; the menu's open figures are taken by bench/shellMenu.ts.
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import dbus from "dbus-next";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anomalyRows } from "../../extension/src/model/anomalies.js";
import { untranslated as t } from "./untranslated.js";
import { formFromPolicy } from "../../extension/src/model/policy.js";
import { stateText } from "../../extension/src/model/processes.js";
import { emptyText } from "../../extension/src/model/views.js";
import { cleanupSummary, zombieRows } from "../../extension/src/model/zombies.js";
import { parseAnomaly, parseCooldown, parseProcess, parseZombie } from "../../extension/src/model/records.js";
import { leakFitOf, leakWindowStartUsec } from "../../extension/src/model/trend.js";
import type { Dict } from "../../extension/src/model/records.js";
import { DAEMON_JS, daemonNodeFlags, daemonShebangEnv } from "../helpers/command.js";
import type { PreferencesWindow, ShellKind } from "./harness.js";
import { ShellHarness } from "./harness.js";

export const ROOT = resolve(import.meta.dirname, "../..");
export const UUID = "selfheal@selfheal.github.io";

/** One shell to test in, and the build of the extension made for it. */
export interface ShellTarget {
  /** Names the suite, e.g. "GNOME Shell 48 with the GNOME 45+ build". */
  title: string;
  shell: ShellKind;
  /** The build's name under dist/extension/ (gnome45, gnome42). */
  build: string;
  /** The folder of its screenshots under docs/screenshots/ (or test-output/screenshots/). */
  screenshots: string;
  /** What `gnome-extensions info` says of a running extension in this shell. */
  activeState: string;
}

/** GNOME Shell 48 from its Debian 13 root file system (scripts/gnome-shell-48-root.sh), with the GNOME 45+ build. */
export const GNOME48: ShellTarget = { title: "GNOME Shell 48, GNOME 45+ build", shell: "gnome48", build: "gnome45", screenshots: "gnome48", activeState: "ACTIVE" };
/** This machine's GNOME Shell 43, with the GNOME 42–44 build. */
export const GNOME43: ShellTarget = { title: "GNOME Shell 43, GNOME 42–44 build", shell: "host", build: "gnome42", screenshots: "gnome43", activeState: "ENABLED" };

// The packed build, as `npm run build` leaves it and users install it.
export function zipOf(build: string): string {
  return join(ROOT, "dist", "extension", `${UUID}.${build}.shell-extension.zip`);
}

const BUS_NAME = "io.github.SelfHeal1";
const OBJECT_PATH = "/io/github/SelfHeal1";
const MANAGER = "io.github.SelfHeal1.Manager";

const DAEMON_START_TIMEOUT_MS = 15_000;
const SIGNAL_TIMEOUT_MS = 10_000;
/** How long the extension may take to connect after enable(): generous, the machine may be busy. */
const CONNECT_TIMEOUT_MS = 20_000;
/** How long the menu may take to build and paint its 50 rows: under `stress-ng --cpu 2` and two shells, over 10 s. */
const BUILD_TIMEOUT_MS = 60_000;
/** The watched programs: 47 sleepers, one to crash, one bounded fork bomb, one leaker (50 in all). */
const SLEEPERS = 47;
const WATCHED = SLEEPERS + 3;
const CRASH_SAMPLES = 5;
/** The Processes rows built before the menu opens (the extension's ROWS_PER_FRAME, menu/widgets.ts). */
const ROWS_IN_SIGHT = 12;
const ENABLE_DISABLE_CYCLES = 50;
const SCREENSHOT_MARGIN = 12;
/** How long the menu's area must stay the same before a screenshot. */
const SETTLE_MS = 250;

// Every program the daemon starts for this run carries this in its environment, so that the
// teardown finds them even though they run in sessions of their own.
const RUN_MARKER = `SELFHEAL_E2E_RUN=${process.pid}-${Date.now()}`;

const LEAKER = join(ROOT, "test", "fixtures", "memory.mjs");

const sleeperName = (i: number): string => `sleeper-${String(i).padStart(2, "0")}`;

// The watched programs' arguments carry a tag of this run (sleep takes a fraction), so that on a
// machine where another run of these tests goes on, neither daemon matches and adopts the other's
// programs (and this one never signals theirs).
const RUN_TAG = String(process.pid).padStart(7, "0");
const seconds = (whole: number): string => `${whole}.${RUN_TAG}`;
const sleeperArg = (i: number): string => seconds(100000 + i);
const escaped = (arg: string): string => arg.replace(".", "\\.");
const matchOf = (arg: string): string => `/^sleep ${escaped(arg)}$/`;

// config.toml: every program is a `sleep` with an argument of its own (and of this run), matched by
// regex, so that no policy adopts another's process.
function configToml(desktopNotifications = false): string {
  const lines = [
    "[settings]",
    "interval = 0.25",
    "",
    "# The daemon's desktop notifications would add the shell's own widgets and bus watches",
    "# to the leak counts (and a dot to the screenshots): on only for the test of their actions.",
    "[notifications]",
    `desktop = ${desktopNotifications}`,
    "",
    "[process.crashy]",
    `command = ["sleep", "${seconds(200001)}"]`,
    `match = ${JSON.stringify(matchOf(seconds(200001)))}`,
    "autostart = true",
    "cooldown = { max_restarts = 3, window = 60, pause = 120 }",
    "",
    "[process.forky]",
    `command = ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep ${seconds(200002)} & done; wait"]`,
    `match = ${JSON.stringify(`/^sh -c for i in 1 2 3 .*sleep ${escaped(seconds(200002))} /`)}`,
    "autostart = true",
    'restart = "never"',
    "fork_bomb = { max_descendants = 8 }",
    "",
    "# 5 MB/s up to 60 MB from a second after its start, then held until it ends (120 s): a memory leak.",
    "[process.leaky]",
    `command = ${JSON.stringify([process.execPath, LEAKER, "leak", "5", "60", "1", "120", RUN_TAG])}`,
    `match = ${JSON.stringify(`/memory\\.mjs leak 5 60 1 120 ${RUN_TAG}$/`)}`,
    "autostart = true",
    'restart = "never"',
  ];
  for (let i = 1; i <= SLEEPERS; i++) {
    lines.push("", `[process.${sleeperName(i)}]`, `command = ["sleep", "${sleeperArg(i)}"]`, `match = ${JSON.stringify(matchOf(sleeperArg(i)))}`, "autostart = true");
  }
  return lines.join("\n") + "\n";
}

// The state of the suite that runs (suites run one after the other: describeEndToEnd resets it).
let shell: ShellHarness;
let screenshots = "";
let daemon: ChildProcess | null = null;
let daemonOutput = "";
let daemonAnswered = false;
let figures: string[] = [];
let prefsOutput = "";

/** A policy's row in the preferences as the prefs driver reads it. */
interface PolicyRow {
  name: string;
  subtitle: string;
  sensitive: boolean;
  fields: Record<string, string | number | boolean | null>;
  fieldProblems: Record<string, string>;
  problems: string[];
}

// GetPolicies' a{sv} (dbus-next Variants, nested for the sub-tables) as plain values.
function plainPolicy(policy: Record<string, { value: unknown }>): Dict {
  const plain = (value: unknown): unknown =>
    value instanceof dbus.Variant ? plain(value.value) : value !== null && typeof value === "object" && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)])) : value;
  return plain(policy) as Dict;
}

// Calls a method of the daemon's Manager interface; returns the out arguments.
async function manager(member: string, signature = "", body: unknown[] = []): Promise<unknown[]> {
  return shell.call(BUS_NAME, OBJECT_PATH, MANAGER, member, signature, body);
}

// a{sv} from dbus-next ({ key: Variant }) as plain values.
function unwrap(dict: Record<string, { value: unknown }>): Dict {
  return Object.fromEntries(Object.entries(dict).map(([key, variant]) => [key, variant.value]));
}

// GetHistory: a program's samples since `sinceUsec`, as [time_usec, cpu_percent, rss_bytes].
async function history(name: string, sinceUsec = 0): Promise<Array<[number, number, number]>> {
  const [samples] = (await manager("GetHistory", "st", [name, BigInt(Math.floor(sinceUsec))])) as [Array<[bigint, number, number]>];
  return samples.map(([time, cpu, rss]) => [Number(time), cpu, rss]);
}

async function listOf<T>(member: string, parse: (dict: Dict) => T): Promise<T[]> {
  const [records] = (await manager(member)) as [Array<Record<string, { value: unknown }>>];
  return records.map((record) => parse(unwrap(record)));
}

async function probe<T = unknown>(call: string): Promise<T> {
  return shell.eval<T>(`selfhealProbe.${call}`);
}

// Whether the Processes view holds rows before its menu opens: those in sight are built, in one
// go, from the list fetched when the daemon connects.
async function rowsInSight(): Promise<boolean> {
  return (await probe<number>("processRowCount()")) > 0;
}

// Whether the extension is enabled and its indicator shows a connected daemon. GNOME 45+ enable an
// extension asynchronously (its modules are imported), so right after enableExtension() the
// indicator may not exist yet: that is not "connected".
// (Not connected throws what the probe saw, so that a wait that times out says it.)
async function connected(): Promise<boolean> {
  const state = await probe<{ present: boolean; level: string | null }>("state()");
  if (state.present && state.level !== null && state.level !== "offline") return true;
  throw new Error(`not connected: ${JSON.stringify(state)}`);
}

// Waits until `check` returns a value that is not false/null/undefined, or throws `what`.
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | false | null | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== null && value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    await sleep(50);
  }
}

// Collects the Manager's signals as they arrive, with the wall-clock time of arrival.
interface Received {
  member: string;
  body: unknown[];
  ms: number;
}
const received: Received[] = [];

async function listenToSignals(): Promise<void> {
  await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
    `type='signal',interface='${MANAGER}'`,
  ]);
  shell.bus.on("message", (message: dbus.Message) => {
    if (message.type === dbus.MessageType.SIGNAL && message.interface === MANAGER) {
      received.push({ member: message.member ?? "", body: message.body as unknown[], ms: performance.timeOrigin + performance.now() });
    }
  });
}

async function nextSignal(member: string, after: number, match: (body: unknown[]) => boolean = () => true): Promise<Received> {
  return eventually(`the daemon's ${member} signal`, SIGNAL_TIMEOUT_MS, async () =>
    received.find((signal, index) => index >= after && signal.member === member && match(signal.body)),
  );
}

// Crashes a watched program (one whose cooldown allows a few restarts a minute) until the daemon
// pauses its restarts; resolves with the CooldownActivated signal.
async function crashIntoCooldown(name: string): Promise<Received> {
  const deadline = Date.now() + 45_000;
  let activated: Received | null = null;
  while (!activated) {
    if (Date.now() > deadline) throw new Error(`${name} never reached its cooldown`);
    const [record] = (await manager("GetProcess", "s", [name])) as [Record<string, { value: unknown }>];
    const { pid } = parseProcess(unwrap(record));
    if (pid === 0) {
      await sleep(100);
      continue;
    }
    const before = received.length;
    signalSessionProcess(pid, "SIGSEGV");
    await nextSignal("ProcessCrashed", before, (body) => body[0] === name);
    activated = await eventually("a restart or a cooldown", SIGNAL_TIMEOUT_MS, async () =>
      received.slice(before).find((s) => (s.member === "ProcessRestarted" || s.member === "CooldownActivated") && s.body[0] === name) ?? null,
    );
    if (activated.member !== "CooldownActivated") activated = null;
  }
  return activated;
}

// The daemon runs inside the shell's session: in its PID namespace, so that it sees (and may act
// on) the session's processes only, and so that the session's bus knows its PID (the shell's
// notification service asks the bus for the sender's PID, and refuses a notification without one).
function startDaemon(): ChildProcess {
  const [markerName, markerValue] = RUN_MARKER.split("=") as [string, string];
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...shell.env, ...daemonShebangEnv(), [markerName]: markerValue })) if (value !== undefined) env[key] = value;
  const child = shell.spawnOnHost(process.execPath, [...daemonNodeFlags(), DAEMON_JS, "daemon"], { env, cwd: ROOT });
  const collect = (chunk: Buffer): void => {
    daemonOutput += chunk.toString("utf8");
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return child;
}

async function waitForDaemon(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  for (;;) {
    const [hasOwner] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", [BUS_NAME])) as [boolean];
    if (hasOwner) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`\`node dist/selfheal.js daemon\` exited (${child.exitCode ?? child.signalCode}) without taking ${BUS_NAME}:\n${daemonOutput}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`\`node dist/selfheal.js daemon\` did not take ${BUS_NAME} on the session bus within ${DAEMON_START_TIMEOUT_MS} ms:\n${daemonOutput}`);
    }
    await sleep(100);
  }
}

// SIGTERM to the daemon itself (nsenter, its parent, passes no signal on), SIGKILL after 5 s.
async function stopDaemon(): Promise<void> {
  const child = daemon;
  daemon = null;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  const pid = await shell.programPid(child).catch(() => null);
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (pid !== null) process.kill(pid, name);
    } catch {
      // Gone already.
    }
  };
  signal("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null && child.signalCode === null) signal("SIGKILL");
  await Promise.race([exited, sleep(5000)]);
}

// Sends a signal to a process of the session known by the PID the daemon reports.
function signalSessionProcess(pid: number, signal: NodeJS.Signals): void {
  const host = shell.hostPid(pid);
  if (host === null) throw new Error(`the session has no process ${pid}`);
  process.kill(host, signal);
}

// Ends every process of this run: the daemon's programs run in sessions of their own.
async function killMarkedProcesses(): Promise<void> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = await readFile(`/proc/${entry}/environ`, "utf8");
      if (environ.split("\0").includes(RUN_MARKER)) process.kill(Number(entry), "SIGKILL");
    } catch {
      // Gone, or not ours to read.
    }
  }
}

/** A zombie parent's row as shell-probe.js reads it. */
interface ZombieParentShown {
  title: string;
  detail: string;
  canAsk: boolean;
  question: string | null;
}

// A zombie and its parent in the shell's session: `sh` backgrounds a short sleep, then becomes a
// long sleep (of this run) that never reaps it. `pid` is the parent's PID in the session, as the
// daemon reports it.
async function startZombieMaker(whole: number): Promise<{ pid: number; exited: () => boolean }> {
  const [markerName, markerValue] = RUN_MARKER.split("=") as [string, string];
  const child = shell.spawnOnHost("sh", ["-c", `sleep 0.1 & exec sleep ${seconds(whole)}`], { env: { PATH: "/usr/bin:/bin", [markerName]: markerValue }, cwd: "/" });
  const host = await shell.programPid(child);
  const pid = shell.sessionPid(host);
  if (pid === null) throw new Error(`the zombie maker (PID ${host}) is not in the shell's session`);
  return { pid, exited: () => child.exitCode !== null || child.signalCode !== null };
}

function requireDaemon(): void {
  if (!daemonAnswered) throw new Error(`the daemon never answered on the bus, so this cannot be checked:\n${daemonOutput}`);
}

// Screenshots the indicator and its menu once the menu is laid out and stays the same size for
// SETTLE_MS (the open animation and the latest refresh are over).
async function screenshotMenu(name: string): Promise<void> {
  type Area = { x: number; y: number; width: number; height: number };
  let last: string | null = null;
  const area = await eventually("the menu laid out and settled", 10_000, async () => {
    const current = await probe<Area | null>(`menuArea(${SCREENSHOT_MARGIN})`);
    const settled = current !== null && JSON.stringify(current) === last;
    last = current === null ? null : JSON.stringify(current);
    if (!settled) await sleep(SETTLE_MS);
    return settled ? current : null;
  });
  await shell.screenshotArea(join(screenshots, `${name}.png`), area);
}

function stats(values: number[], unit = " ms"): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): string => (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN).toFixed(unit === "" ? 0 : 1);
  return `n=${sorted.length} min ${at(0)}${unit}, median ${at(0.5)}${unit}, max ${at(1)}${unit}`;
}

// Opens the Processes view of a fresh, connected extension whose menu was never opened, once the
// rows in sight are built, and waits until all the rows are built and painted; returns how many
// rows the open's first frame had.
async function openFresh(): Promise<number | null> {
  await eventually("the rows in sight built from the list fetched on connecting", 10_000, rowsInSight);
  await probe("show('processes')");
  const closedStyle = await closedMenuStyled();
  await probe(`timeMenuBuild(${WATCHED}, ${BUILD_TIMEOUT_MS})`);
  const times = await eventually(`the menu to show ${WATCHED} rows and paint them`, BUILD_TIMEOUT_MS, async () => {
    const current = await probe<MenuTimes>("menuTimes");
    return current.paintMs !== null ? current : null;
  });
  expect(await probe<string | null>("menuStyle()"), "the menu's style, set by the shell at its open").toBe(closedStyle);
  expect(times.restyled, "widgets of the menu whose style the open recomputed").toBe(0);
  return times.firstFrameRows;
}

/** How the closed menu is styled, as the probe's measureClosedMenuStyling() finds it. */
interface ClosedMenuStyling {
  style: string | null;
  focus: boolean;
  unstyled: number;
}

// Waits until the closed menu is styled as its open will have it, and returns its inline style:
// the style the shell gives the menu at its open (a max-height) and the :focus pseudo-class its
// grab gives it (through the key focus) set already, and every widget on show in it (the rows in
// sight among them) with its style resolved, so that the open restyles nothing in the menu. Each
// look is taken once the shell's main loop has done what it had to do before its idle callbacks of
// low priority (St restyles widgets in idle callbacks).
async function closedMenuStyled(): Promise<string> {
  let seen: ClosedMenuStyling | null = null;
  try {
    return await eventually("the closed menu styled as its open will have it", 10_000, async () => {
      await probe("measureClosedMenuStyling()");
      const look = await eventually("the probe's look at the closed menu", 5000, () => probe<{ value: ClosedMenuStyling | null } | null>("closedStyling"));
      seen = look.value;
      return seen !== null && seen.style !== null && seen.focus && seen.unstyled === 0 ? seen.style : null;
    });
  } catch (error) {
    throw new Error(`${String(error)}; the closed menu last seen: ${JSON.stringify(seen)}`);
  }
}

/** What the probe's timeMenuBuild() notes of one open, in milliseconds from the open() call. */
interface MenuTimes {
  openMs: number | null;
  openCpuMs: number | null;
  firstFrameMs: number | null;
  firstFrameCpuMs: number | null;
  firstFrameRows: number | null;
  buildMs: number | null;
  paintMs: number | null;
  paintCpuMs: number | null;
  /** The widgets of the menu whose style the open recomputed. */
  restyled: number | null;
}

// Screenshots go to test-output/ unless SELFHEAL_UPDATE_SCREENSHOTS=1 asks to refresh the README's copies.
export function screenshotsOf(target: ShellTarget): string {
  const base = process.env.SELFHEAL_UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "test-output", "screenshots");
  return join(base, target.screenshots);
}

// Starts a shell of the target's kind with the target's zip installed and enabled, and the probe
// (shell-probe.js) loaded.
export async function startShell(target: ShellTarget, lang?: string): Promise<ShellHarness> {
  const zip = zipOf(target.build);
  if (!existsSync(zip)) throw new Error(`no packed extension at ${zip}: run npm run build`);
  const started = await ShellHarness.start({ shell: target.shell, zips: [zip], enabled: [UUID], lang });
  await started.eval(await readFile(join(import.meta.dirname, "shell-probe.js"), "utf8"));
  return started;
}

export function describeEndToEnd(target: ShellTarget): void {
describe(`${target.title}: the extension in a real gnome-shell, with the real daemon`, () => {
  beforeAll(async () => {
    figures = [];
    prefsOutput = "";
    received.length = 0;
    daemonAnswered = false;
    daemonOutput = "";
    screenshots = screenshotsOf(target);
    await mkdir(screenshots, { recursive: true });
    shell = await startShell(target);
    await listenToSignals();
    const configDir = join(shell.env.XDG_CONFIG_HOME ?? "", "selfheal");
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, "config.toml"), configToml());
    if (!existsSync(DAEMON_JS)) {
      daemonOutput = `${DAEMON_JS} does not exist: run npm run build`;
      return;
    }
    daemon = startDaemon();
    try {
      await waitForDaemon(daemon);
      daemonAnswered = true;
    } catch (error) {
      daemonOutput = String(error instanceof Error ? error.message : error);
    }
  }, 15 * 60_000); // A cold machine first builds the GNOME 48 root file system (about 3 minutes).

  // Each test starts with the daemon running, the extension enabled and connected and its menu
  // closed: a test that fails half-way (the daemon stopped, the extension disabled, the leak watch
  // on) leaves nothing to the next, whose failure, if any, is then its own.
  beforeEach(async (context) => {
    // The log check needs none of it, and must report what a failed precondition left in the log.
    if (!daemonAnswered || context.task.name.startsWith("leaves no JS ERROR")) return;
    if (daemon === null || daemon.exitCode !== null || daemon.signalCode !== null) {
      daemon = startDaemon();
      await waitForDaemon(daemon);
    }
    await probe("reset()");
    await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
  }, 120_000);

  afterAll(async () => {
    await stopDaemon();
    await killMarkedProcesses();
    await shell?.stop();
    if (figures.length > 0) console.log(`\nselfheal extension, end to end, ${target.title}:\n  ${figures.join("\n  ")}\n`);
  }, 30_000);

  it("has the daemon answering on the session bus", () => {
    expect(daemonAnswered, daemonOutput).toBe(true);
  });

  it(`is loaded by the shell as it is, with version validation on (State: ${target.activeState})`, async () => {
    const validation = await shell.runInSession("gsettings", ["get", "org.gnome.shell", "disable-extension-version-validation"]);
    expect(validation.trim()).toBe("false");
    const info = await shell.runInSession("gnome-extensions", ["info", UUID]);
    expect(info).toMatch(new RegExp(`^\\s*State: ${target.activeState}$`, "m"));
    expect(await probe<{ enabled: boolean; present: boolean }>("state()")).toMatchObject({ enabled: true, present: true });
  });

  it("shows the daemon's health in the indicator once all programs run", async () => {
    requireDaemon();
    await eventually("all watched programs running", 30_000, async () => {
      const processes = await listOf("ListProcesses", parseProcess);
      return processes.length === WATCHED && processes.filter((p) => p.name !== "forky").every((p) => p.pid > 0 && p.state === "running");
    });
    // Health moves while the fork bomb is contained: the indicator must come to show what it is.
    await eventually("the indicator to show the daemon's Health", 5000, async () => {
      const [health] = (await shell.call(BUS_NAME, OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get", "ss", [MANAGER, "Health"])) as [{ value: string }];
      const current = await probe<{ level: string }>("state()");
      return current.level === health.value;
    });
  });

  it("builds the Processes view of 50 programs, matching ListProcesses", async () => {
    requireDaemon();
    // A fresh extension, its menu never opened: the rows in sight are built from the list fetched
    // when the daemon connected, the others on show. The open's first frame has the rows in sight
    // and no more (checked again at every fourth of the 50 enable/disable cycles below; the figures
    // of many opens are taken by `npm run bench`, bench/shellMenu.ts, one shell after the other).
    await probe("cycle()");
    await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
    expect(await openFresh()).toBe(ROWS_IN_SIGHT);

    await eventually("the Processes view to match ListProcesses", 10_000, async () => {
      const expected = (await listOf("ListProcesses", parseProcess))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => ({ name: p.name, state: stateText(p.state, t), pid: p.pid > 0 ? String(p.pid) : "—" }));
      const shown = (await probe<Array<{ name: string; state: string; pid: string }>>("rows('processes')")).map(({ name, state, pid }) => ({ name, state, pid }));
      expect(shown).toEqual(expected);
      return true;
    });
    expect((await probe<string[]>("tabs()"))[0]).toBe(`Processes (${WATCHED})`);
    // The sparklines: a row draws the samples GetHistory holds for its program (the view fetches
    // them while the menu is open): at least as many as held before the look, at most as many as after.
    for (const name of [sleeperName(1), sleeperName(SLEEPERS), "crashy"]) {
      const before = (await history(name)).length;
      const drawn = await eventually(`${name}'s sparkline drawn with the ${before} samples held`, 10_000, async () => {
        const row = (await probe<Array<{ name: string; trendPoints: number | null }>>("rows('processes')")).find((r) => r.name === name);
        return row?.trendPoints !== null && row?.trendPoints !== undefined && row.trendPoints >= before ? row.trendPoints : null;
      });
      expect(before).toBeGreaterThan(0);
      expect(drawn).toBeLessThanOrEqual((await history(name)).length);
    }
    await screenshotMenu("processes");
    await probe("close()");

    // Closed, the menu is styled again as its next open will have it (St took the :focus off as
    // the focus left it), and that open restyles nothing in it either.
    await closedMenuStyled();
    await probe(`timeMenuBuild(${WATCHED}, ${BUILD_TIMEOUT_MS})`);
    expect((await probe<MenuTimes>("menuTimes")).restyled, "widgets of the menu whose style a later open recomputed").toBe(0);
    await probe("close()");
  });

  it("reflects a crash in the indicator right after ProcessCrashed", async () => {
    requireDaemon();
    await probe("close()");
    await probe("watchIndicator()");
    const reactions: number[] = [];
    for (let i = 1; i <= CRASH_SAMPLES; i++) {
      const name = sleeperName(i);
      const [record] = (await manager("GetProcess", "s", [name])) as [Record<string, { value: unknown }>];
      const { pid } = parseProcess(unwrap(record));
      expect(pid, `${name} runs`).toBeGreaterThan(0);
      const before = received.length;
      const changesBefore = (await probe<unknown[]>("indicatorChanges")).length;
      signalSessionProcess(pid, "SIGSEGV");
      const crashed = await nextSignal("ProcessCrashed", before, (body) => body[0] === name);
      const change = await eventually("the indicator to change after the crash", 5000, async () => {
        const changes = await probe<Array<{ usec: number; what: string; value: string }>>("indicatorChanges");
        return changes.length > changesBefore ? changes[changesBefore] : null;
      });
      reactions.push(change.usec / 1000 - crashed.ms);
      await nextSignal("ProcessRestarted", before, (body) => body[0] === name);
    }
    const state = await probe<{ level: string; count: string | null }>("state()");
    expect(["degraded", "critical"]).toContain(state.level);
    expect(Number(state.count)).toBeGreaterThanOrEqual(CRASH_SAMPLES);
    figures.push(`indicator change after ProcessCrashed reached the bus (SIGSEGV of a watched program): ${stats(reactions)}`);
  });

  it("restarts a program from its row", async () => {
    requireDaemon();
    await probe("open()");
    await probe("show('processes')");
    const name = sleeperName(SLEEPERS);
    const before = received.length;
    const oldPid = await eventually(`${name}'s row`, 5000, async () => {
      const row = (await probe<Array<{ name: string; pid: string }>>("rows('processes')")).find((r) => r.name === name);
      return row && row.pid !== "—" ? row.pid : null;
    });
    expect(await probe<boolean>(`pressRowButton('selfheal-process-row', '${name}', 'selfheal-restart')`)).toBe(true);
    const restarted = await nextSignal("ProcessRestarted", before, (body) => body[0] === name);
    const newPid = String(restarted.body[2]);
    expect(newPid).not.toBe(oldPid);
    await eventually(`${name}'s row to show its new PID ${newPid}`, 5000, async () => {
      const row = (await probe<Array<{ name: string; pid: string }>>("rows('processes')")).find((r) => r.name === name);
      return row?.pid === newPid;
    });
    expect(await probe<string | null>("statusLine()")).toBeNull();
  });

  it("shows the Anomalies view as ListAnomalies reports it", async () => {
    requireDaemon();
    await probe("open()");
    await probe("show('anomalies')");
    // The leaker's memory leak, with the curve it was judged on under its row: exactly the samples
    // of GetHistory in the window the view draws (history: they no longer change).
    const leak = await eventually("the leaker's memory_leak", 60_000, async () => (await listOf("ListAnomalies", parseAnomaly)).find((a) => a.process === "leaky" && a.type === "memory_leak"));
    const fit = leakFitOf(leak);
    expect(fit).not.toBeNull();
    const start = leakWindowStartUsec(fit!);
    const expectedPoints = (await history("leaky", start)).filter(([time]) => time >= start && time <= fit!.endUsec).length;
    expect(expectedPoints).toBeGreaterThan(0);
    await eventually(`the leak's curve drawn with its ${expectedPoints} samples`, 10_000, async () => {
      const row = (await probe<Array<{ process: string; kind: string; curvePoints: number | null }>>("rows('anomalies')")).find((r) => r.process === "leaky");
      return row?.curvePoints === expectedPoints;
    });
    await eventually("the Anomalies view to match ListAnomalies", 10_000, async () => {
      const anomalies = await listOf("ListAnomalies", parseAnomaly);
      const expected = anomalyRows(anomalies, Date.now() * 1000, t).map((row) => ({ process: row.process, pid: row.pidText, kind: row.kindText, action: row.actionText }));
      const shown = (await probe<Array<Record<string, unknown>>>("rows('anomalies')")).map(({ process, pid, kind, action }) => ({ process, pid, kind, action }));
      expect(shown).toEqual(expected);
      expect(await probe("emptyText()")).toBe(expected.length === 0 ? emptyText("anomalies", t) : null);
      return true;
    });
    await screenshotMenu("anomalies");
  });

  it("shows each zombie with its parent, and what the cleanup did", async () => {
    requireDaemon();
    const maker = await startZombieMaker(300001);
    const zombies = await eventually("ListZombies to report the zombie", 10_000, async () => {
      const list = await listOf("ListZombies", parseZombie);
      return list.some((zombie) => zombie.ppid === maker.pid) ? list : null;
    });
    await probe("open()");
    await probe("show('zombies')");
    await eventually("the Zombies view to match ListZombies", 10_000, async () => {
      const current = await listOf("ListZombies", parseZombie);
      const expected = zombieRows(current, t).map(({ title, parentText }) => ({ title, parent: parentText }));
      expect(await probe("rows('zombies')")).toEqual(expected);
      return true;
    });
    expect(zombies.length).toBeGreaterThan(0);
    await screenshotMenu("zombies");

    const before = received.length;
    await probe("pressCleanup()");
    const cleaned = await nextSignal("ZombiesCleaned", before);
    const [reaped, remaining] = cleaned.body as [number, number];
    await eventually("the view to say what the cleanup did", 5000, async () => (await probe<string>("cleanupResult()")) === cleanupSummary(reaped, remaining, t));
    await screenshotMenu("zombies-cleaned");
  });

  it("ends a zombie's parent from its row, after asking, and the daemon reports it gone", async () => {
    requireDaemon();
    // The parent is this test's own: started for it, in the shell's session (the daemon's PID
    // namespace), and the only parent whose row is pressed. `sleep` never reaps, so the cleanup
    // before leaves its zombie.
    const maker = await startZombieMaker(300002);
    await eventually("ListZombies to report the zombie", 10_000, async () => (await listOf("ListZombies", parseZombie)).some((zombie) => zombie.ppid === maker.pid));
    await probe("open()");
    await probe("show('zombies')");
    const parent = await eventually("the parent's row with its End button", 10_000, async () =>
      (await probe<ZombieParentShown[]>("zombieParents()")).find((row) => row.title.endsWith(`(PID ${maker.pid})`) && row.canAsk),
    );
    expect(parent.detail).toMatch(/^1 zombie; /);

    expect(await probe<boolean>(`pressZombieParent(${maker.pid}, 'selfheal-end-parent')`)).toBe(true);
    const asking = await eventually("the question", 5000, async () => (await probe<ZombieParentShown[]>("zombieParents()")).find((row) => row.title === parent.title && row.question !== null));
    expect(asking).toMatchObject({ question: `End ${parent.title}?`, canAsk: false });
    expect(maker.exited(), "nothing is ended before the confirmation").toBe(false);
    await screenshotMenu("zombies-end-parent");

    expect(await probe<boolean>(`pressZombieParent(${maker.pid}, 'selfheal-end-parent-confirm')`)).toBe(true);
    const summary = await eventually("the view to say the parent was ended", 10_000, async () => {
      const text = await probe<string>("cleanupResult()");
      return text.startsWith(`Ended ${parent.title}`) ? text : null;
    });
    expect(summary.startsWith(`Ended ${parent.title}: Reaped 1 zombie; `), summary).toBe(true);
    await eventually("ListZombies to have no zombie of the parent, and the parent gone", 10_000, async () => {
      const list = await listOf("ListZombies", parseZombie);
      return !list.some((zombie) => zombie.ppid === maker.pid) && maker.exited();
    });
    const [events] = (await manager("GetEvents", "tu", [0n, 1000])) as [Array<Record<string, { value: unknown }>>];
    const cleanups = events.map(unwrap).filter((event) => event.kind === "zombies-cleaned");
    expect(cleanups.length, "the daemon logged the cleanup it did").toBeGreaterThan(0);
    expect(await probe<ZombieParentShown[]>("zombieParents()")).not.toContainEqual(expect.objectContaining({ title: parent.title }));
  });

  it("shows who is held back by a cooldown, counting down, and resets it", async () => {
    requireDaemon();
    await probe("close()");
    await crashIntoCooldown("crashy");
    await eventually("the indicator to show the crash loop", 5000, async () => (await probe<{ level: string }>("state()")).level === "critical");

    await probe("open()");
    await probe("show('cooldowns')");
    const shown = await eventually("the Cooldown view to match GetCooldowns", 10_000, async () => {
      const cooldowns = await listOf("GetCooldowns", parseCooldown);
      const rows = await probe<Array<{ name: string; remaining: string }>>("rows('cooldowns')");
      expect(rows.map((row) => row.name).sort()).toEqual(cooldowns.map((c) => c.name).sort());
      const crashy = rows.find((row) => row.name === "crashy");
      expect(crashy?.remaining).toMatch(/^held back for /);
      return crashy;
    });
    // The countdown moves (a text of whole seconds: within about a second, not after a fixed wait).
    await eventually("the countdown to move", 10_000, async () => {
      const later = (await probe<Array<{ name: string; remaining: string }>>("rows('cooldowns')")).find((row) => row.name === "crashy");
      return later !== undefined && later.remaining.startsWith("held back for ") && later.remaining !== shown.remaining;
    });
    await screenshotMenu("cooldowns");

    const before = received.length;
    expect(await probe<boolean>("pressRowButton('selfheal-cooldown-row', 'crashy', 'selfheal-reset-cooldown')")).toBe(true);
    await eventually("crashy to run again after the reset", SIGNAL_TIMEOUT_MS, async () =>
      received.slice(before).some((s) => (s.member === "CooldownEnded" || s.member === "ProcessRestarted") && s.body[0] === "crashy"),
    );
    await eventually("crashy to leave the Cooldown view's held rows", 10_000, async () => {
      const rows = await probe<Array<{ name: string; remaining: string }>>("rows('cooldowns')");
      return !rows.some((row) => row.name === "crashy" && row.remaining.startsWith("held back for"));
    });
    await probe("close()");
  });

  it(`leaves no actor, signal connection, source or match rule behind after ${ENABLE_DISABLE_CYCLES} enable/disable cycles`, async () => {
    requireDaemon();
    // The shell's match rules on the bus that concern selfheal (the shell's own come and go).
    const matchRules = async (): Promise<number> => {
      const [owner] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s", ["org.gnome.Shell"])) as [string];
      const [rules] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Debug.Stats", "GetAllMatchRules")) as [
        Record<string, string[]>,
      ];
      return (rules[owner] ?? []).filter((rule) => rule.includes(BUS_NAME)).length;
    };

    // A fresh, connected extension on the Processes view with its menu never opened: the
    // state compared (the cycles below leave the menu on that view too).
    await probe("show('processes')");
    await probe("cycle()");
    await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
    await eventually("the rows in sight built", 10_000, rowsInSight);
    await sleep(300); // The previous proxy goes once its replies in flight are back.
    const baseline = { actors: await probe<number>("stageActors()"), rules: await matchRules() };
    const baselineCensus = await probe<Record<string, number>>("actorCensus()");
    await probe("disable()");
    await sleep(300);
    const disabledBaseline = await probe<number>("stageActors()");
    await probe("enable()");
    await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);

    await probe("startLeakWatch()");
    const started = Date.now();
    const firstFrames: Array<number | null> = [];
    for (let cycle = 0; cycle < ENABLE_DISABLE_CYCLES; cycle++) {
      await probe("cycle()");
      // Every other cycle disables again before the client is even built; the others connect
      // and open the menu (rows, refresh timers), which the next cycle disables: half of these
      // open it at once (the rows in sight may still be on their way), the other half once the
      // rows in sight are built, checking that the open's first frame has them and no more.
      if (cycle % 4 === 1) {
        await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
        await probe("open()");
        await probe("show('processes')");
        await eventually("the menu's rows", BUILD_TIMEOUT_MS, async () => (await probe<number>("processRowCount()")) === WATCHED);
      } else if (cycle % 4 === 3) {
        await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
        firstFrames.push(await openFresh());
      }
    }
    const elapsed = Date.now() - started;
    await probe("disable()");
    await sleep(300); // Replies in flight at disable() come back; their proxies are disposed then.
    const report = await probe<{ connections: number; sources: number; leakedConnections: string[]; leakedSources: number }>("stopLeakWatch()");
    const disabled = {
      present: (await probe<{ present: boolean }>("state()")).present,
      actors: await probe<number>("stageActors()"),
      ours: await probe<number>("selfhealActors()"),
      rules: await matchRules(),
    };
    await probe("enable()");
    await eventually("the extension to connect", CONNECT_TIMEOUT_MS, connected);
    await eventually("the rows in sight built", 10_000, rowsInSight);
    await sleep(300);
    const after = { actors: await probe<number>("stageActors()"), rules: await matchRules() };
    const afterCensus = await probe<Record<string, number>>("actorCensus()");
    const appeared = Object.entries(afterCensus)
      .map(([kind, count]) => [kind, count - (baselineCensus[kind] ?? 0)] as const)
      .filter(([, difference]) => difference !== 0);

    figures.push(
      `${ENABLE_DISABLE_CYCLES} enable/disable cycles in ${elapsed} ms: ${report.connections} signal connections and ${report.sources} main-loop sources made, ` +
        `${report.leakedConnections.length} and ${report.leakedSources} left; stage actors ${baseline.actors} → ${after.actors}, ` +
        `selfheal's D-Bus match rules ${baseline.rules} → ${disabled.rules} (disabled) → ${after.rules}`,
    );
    expect(firstFrames, "the rows in the first frame of each fresh extension's first open").toEqual(firstFrames.map(() => ROWS_IN_SIGHT));
    expect(firstFrames.length).toBe(Math.floor(ENABLE_DISABLE_CYCLES / 4));
    expect(report.connections).toBeGreaterThan(0);
    expect(report.leakedConnections).toEqual([]);
    expect(report.leakedSources).toBe(0);
    expect(disabled).toEqual({ present: false, actors: disabledBaseline, ours: 0, rules: 0 });
    expect(after, `actors that differ: ${JSON.stringify(appeared)}`).toEqual(baseline);
  }, 600_000); // 12-15 s on an idle machine; several times that when it is shared.

  it("keeps its closed menu styled as its open will have it through a reload of the shell's theme", async () => {
    requireDaemon();
    await eventually("the rows in sight built", 10_000, rowsInSight);
    await closedMenuStyled();
    // What the shell does when the colour scheme changes, and what loading or unloading another
    // extension's stylesheet does through the theme: every widget on the stage restyled.
    await shell.eval("Main.loadTheme(), true");
    await closedMenuStyled();
    expect(await probe<number>("openCountingRestyles()"), "widgets of the menu whose style the open recomputed").toBe(0);
    await probe("close()");
  });

  it("says when the daemon is down, offers to start it, and reconnects by itself", async () => {
    requireDaemon();
    await eventually("the rows in sight built", 10_000, rowsInSight);
    await closedMenuStyled();
    await stopDaemon();
    await eventually("the indicator to show the daemon down", 5000, async () => (await probe<{ level: string }>("state()")).level === "offline");
    // The closed menu, whose items changed, is styled again as its open will have it.
    await closedMenuStyled();
    expect(await probe<number>("openCountingRestyles()"), "widgets of the daemon-down menu whose style the open recomputed").toBe(0);
    const state = await probe<{ offline: boolean }>("state()");
    expect(state.offline).toBe(true);
    await screenshotMenu("daemon-down");
    await probe("close()");

    daemon = startDaemon();
    await waitForDaemon(daemon);
    await eventually("the indicator to reconnect", CONNECT_TIMEOUT_MS, connected);
    await probe("open()");
    await probe("show('processes')");
    await eventually("the Processes view back after the reconnect", 10_000, async () => (await probe<number>("processRowCount()")) === WATCHED);
    await probe("close()");
  });

  it("opens the preferences window through the shell (GNOME's preferences service)", async () => {
    requireDaemon();
    await shell.eval(`Main.extensionManager.openExtensionPrefs('${UUID}', '', {}); true`);
    const windowArea = (): Promise<{ x: number; y: number; width: number; height: number } | null> => probe("windowArea('SelfHeal')");
    // D-Bus activation of the preferences service (gjs, GTK, libadwaita) takes seconds on a busy machine.
    await eventually("the preferences window", 60_000, windowArea);
    await probe("closeWindow('SelfHeal')");
    await eventually("the preferences window to close", 15_000, async () => (await probe<string[]>("windowTitles()")).length === 0);
    await sleep(500); // The closing animation's actor.
  }, 120_000);

  describe("the preferences, looked into", () => {
    let prefs: PreferencesWindow | null = null;
    const open = async (): Promise<PreferencesWindow> => {
      prefs ??= await shell.openPreferences(UUID);
      return prefs;
    };
    const row = async (name: string): Promise<PolicyRow | null> => (await open()).eval<PolicyRow | null>(`prefs.row(${JSON.stringify(name)})`);
    const policies = async (): Promise<Map<string, Dict>> => {
      const [all] = (await manager("GetPolicies")) as [Record<string, Record<string, { value: unknown }>>];
      return new Map(Object.entries(all).map(([name, policy]) => [name, plainPolicy(policy)]));
    };

    afterAll(async () => {
      await prefs?.close();
      if (prefs) prefsOutput = prefs.output();
    });

    it("shows a row for each of the daemon's policies, with its values", async () => {
      requireDaemon();
      const expected = await policies();
      const window = await open();
      const names = await eventually("a row for each policy", 10_000, async () => {
        const shown = await window.eval<string[]>("prefs.names()");
        return shown.length === expected.size ? shown : null;
      });
      expect(names).toEqual([...expected.keys()].sort());
      for (const name of ["crashy", "forky", sleeperName(7)]) {
        const form = formFromPolicy(name, expected.get(name) ?? {});
        expect(await row(name), name).toMatchObject({
          subtitle: form.command,
          fields: { Command: form.command, Match: form.match, "Cooldown after (restarts)": form.cooldownMaxRestarts },
        });
      }
      // The same dialog as the shell opens, now known to show the policies.
      await sleep(500); // The window's opening animation.
      const area = await eventually("the preferences window", 5000, () => probe<{ x: number; y: number; width: number; height: number } | null>("windowArea('SelfHeal')"));
      await shell.screenshotArea(join(screenshots, "preferences.png"), area);
    }, 120_000); // Opening the driver's dialog takes a while on a busy machine.

    it("sends an edit through SetPolicy, and GetPolicies has it", async () => {
      requireDaemon();
      const window = await open();
      const name = sleeperName(10);
      expect(await window.eval(`prefs.type("${name}", "CPU limit (%)", 55)`)).toBe(true);
      expect(await window.eval(`prefs.type("${name}", "Cooldown after (restarts)", 7)`)).toBe(true);
      expect(await window.eval(`prefs.press("${name}", "Apply")`)).toBe(true);
      const saved = await eventually("GetPolicies to have the edit", 10_000, async () => {
        const policy = (await policies()).get(name);
        return policy?.cpu_limit === 55 ? policy : null;
      });
      expect(saved).toMatchObject({ cpu_limit: 55, cooldown: { max_restarts: 7 }, command: ["sleep", sleeperArg(10)] });
      expect((await row(name))?.problems).toEqual([]);
    });

    it("shows the daemon's refusal next to the field it is about, and keeps the typed value", async () => {
      requireDaemon();
      const window = await open();
      const name = sleeperName(11);
      await window.eval(`prefs.type("${name}", "Match", "/[unclosed/")`);
      expect(await window.eval(`prefs.press("${name}", "Apply")`)).toBe(true);
      const shown = await eventually("the refusal under the Match field", 10_000, async () => {
        const current = await row(name);
        return current && current.fieldProblems.Match ? current : null;
      });
      expect(shown.fields.Match).toBe("/[unclosed/");
      expect((await policies()).get(name)?.match).toBe(matchOf(sleeperArg(11)));
    });

    it("keeps what was typed in other rows, and a row not saved yet, through an Apply and a reconnect", async () => {
      requireDaemon();
      const window = await open();
      const typed = sleeperName(12);
      const applied = sleeperName(13);
      await window.eval(`prefs.type("${typed}", "Command", "sleep ${sleeperArg(12)} typed-not-applied")`);
      await window.eval(`prefs.type("${typed}", "Memory limit (MB)", 321)`);
      await window.eval(`prefs.add("not-saved-yet")`);
      await window.eval(`prefs.type("not-saved-yet", "Command", "sleep 300123")`);
      await window.eval(`prefs.type("${applied}", "CPU limit (%)", 44)`);
      expect(await window.eval(`prefs.press("${applied}", "Apply")`)).toBe(true);
      await eventually("GetPolicies to have the applied edit", 10_000, async () => (await policies()).get(applied)?.cpu_limit === 44);
      await sleep(500); // The reload that follows an Apply.
      const keeps = async (): Promise<void> => {
        expect((await row(typed))?.fields).toMatchObject({ Command: `sleep ${sleeperArg(12)} typed-not-applied`, "Memory limit (MB)": 321 });
        expect((await row("not-saved-yet"))?.fields).toMatchObject({ Command: "sleep 300123" });
        expect((await row(applied))?.fields).toMatchObject({ "CPU limit (%)": 44 });
      };
      await keeps();

      await stopDaemon();
      await eventually("the preferences to see the daemon gone", 10_000, async () => (await window.eval<boolean>(`prefs.row("${typed}")?.sensitive === false`)));
      daemon = startDaemon();
      await waitForDaemon(daemon);
      await eventually("the preferences to reconnect", 10_000, async () => (await window.eval<boolean>(`prefs.row("${typed}")?.sensitive === true`)));
      await sleep(500); // The reload that follows the reconnect.
      await keeps();
      expect((await policies()).get(typed)?.command).toEqual(["sleep", sleeperArg(12)]);
    });
  });

  // The shell is the notification server on the session's bus (its notification service owns
  // org.freedesktop.Notifications and hands each notification to the shell, with the sender's PID:
  // the daemon runs in the session's PID namespace so that the bus knows it). The notifications
  // are found in the message tray and acted on as a click would.
  it("acts on the daemon's notifications in the shell's message tray: Restart now ends a cooldown, a click opens the menu on the program's row", async () => {
    requireDaemon();
    await probe("close()");
    await eventually("crashy running", 30_000, async () => {
      const [record] = (await manager("GetProcess", "s", ["crashy"])) as [Record<string, { value: unknown }>];
      return parseProcess(unwrap(record)).pid > 0;
    });
    const reloads = received.length;
    await writeFile(join(shell.env.XDG_CONFIG_HOME ?? "", "selfheal", "config.toml"), configToml(true));
    const kindOf = (signal: Received): unknown => (signal.body[0] as Record<string, { value: unknown }> | undefined)?.kind?.value;
    await eventually("the daemon to apply the config with notifications on", SIGNAL_TIMEOUT_MS, async () =>
      received.slice(reloads).some((signal) => signal.member === "EventLogged" && kindOf(signal) === "config-reloaded"),
    );

    // The notification service answers the daemon's Notify only after the shell has shown the
    // notification, and drops an action on a notification it has not answered for yet (it does
    // not know whom to tell): an action is invoked only once the daemon has its answer, seen here
    // on the bus (the session bus lets a client watch replies between others).
    const relayed: number[] = [];
    const [notifier] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner", "s", ["org.freedesktop.Notifications"])) as [string];
    // (The daemon sends its notifications on a connection of its own: any Notify answer counts.)
    const relayRule = `type='method_return',sender='${notifier}',eavesdrop='true'`;
    const onRelay = (message: dbus.Message): void => {
      if (message.type === dbus.MessageType.METHOD_RETURN && message.sender === notifier && message.signature === "u") relayed.push(Number(message.body[0]));
    };
    shell.bus.on("message", onRelay);
    await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [relayRule]);
    const allRelayed = async (): Promise<boolean> => relayed.length >= (await probe<string[]>("notificationTitles()")).filter((title) => title.endsWith(": crashy")).length;

    const loopTitle = "Restart Loop: crashy";
    await crashIntoCooldown("crashy");
    const actions = await eventually("the restart loop's notification in the message tray", 20_000, () => probe<string[] | null>(`notificationActions(${JSON.stringify(loopTitle)})`));
    expect(actions).toEqual(["Restart now", "Stop watching"]);
    const [serverPid] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", [notifier])) as [number];
    const serverHost = shell.hostPid(serverPid);
    expect(serverHost && readFileSync(`/proc/${serverHost}/cmdline`, "utf8"), "the shell's notification service owns org.freedesktop.Notifications").toMatch(/org\.gnome\.Shell\.Notifications|gnome-shell/);

    // Restart now: the cooldown ends and crashy runs again, with a new PID.
    const before = received.length;
    await eventually("the daemon to have the notification service's answer for each notification", 20_000, allRelayed);
    const invokedUsec = await probe<number | null>(`invokeNotification(${JSON.stringify(loopTitle)}, "Restart now")`);
    expect(invokedUsec, "the notification's Restart now").not.toBeNull();
    const ended = await nextSignal("CooldownEnded", before, (body) => body[0] === "crashy");
    const crashedPids = new Set(received.filter((signal) => signal.member === "ProcessCrashed" && signal.body[0] === "crashy").map((signal) => Number(signal.body[1])));
    const running = await eventually("crashy to run again with a new PID, its cooldown gone", SIGNAL_TIMEOUT_MS, async () => {
      const [record] = (await manager("GetProcess", "s", ["crashy"])) as [Record<string, { value: unknown }>];
      const watched = parseProcess(unwrap(record));
      return watched.pid > 0 && !crashedPids.has(watched.pid) && watched.state === "running" && watched.cooldownRemaining === 0 ? performance.timeOrigin + performance.now() : null;
    });
    expect((await listOf("GetCooldowns", parseCooldown)).find((cooldown) => cooldown.name === "crashy")?.cooldownRemaining ?? 0).toBe(0);
    figures.push(
      `notification action Restart now (in the shell's message tray) → CooldownEnded on the bus ${(ended.ms - (invokedUsec ?? 0) / 1000).toFixed(1)} ms; → GetProcess seen running with a new PID ${(running - (invokedUsec ?? 0) / 1000).toFixed(1)} ms (polled every 50 ms)`,
    );

    // A click on the crash's notification: the menu opens on the Processes view, crashy's row marked.
    const crashTitle = "Process Crash: crashy";
    await eventually("the crash's notification in the message tray", 20_000, async () => (await probe<string[]>("notificationTitles()")).includes(crashTitle));
    await eventually("the daemon to have the notification service's answer for each notification", 20_000, allRelayed);
    await probe("watchMenuOpen()");
    const clicked = received.length;
    const clickedUsec = await probe<number | null>(`invokeNotification(${JSON.stringify(crashTitle)}, null)`);
    expect(clickedUsec, "the crash's notification").not.toBeNull();
    const show = await nextSignal("ShowRequested", clicked);
    expect(show.body).toEqual(["processes", "crashy"]);
    const openedUsec = await eventually("the menu open on the Processes view with crashy's row marked", 10_000, async () => {
      const state = await probe<{ menuOpen: boolean }>("state()");
      const open = state.menuOpen && (await probe<string>("currentView()")) === "processes" && JSON.stringify(await probe<string[]>("markedRows()")) === JSON.stringify(["crashy"]);
      return open ? probe<number | null>("menuOpenedUsec") : null;
    });
    figures.push(
      `notification clicked (in the shell's message tray) → ShowRequested on the bus ${(show.ms - (clickedUsec ?? 0) / 1000).toFixed(1)} ms, → the menu open on the row ${((openedUsec - (clickedUsec ?? 0)) / 1000).toFixed(1)} ms`,
    );
    await screenshotMenu("notification-clicked");
    await probe("close()");
    expect(await probe<string[]>("markedRows()")).toEqual([]);
    shell.bus.off("message", onRelay);
    await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RemoveMatch", "s", [relayRule]);
  }, 120_000);

  it("leaves no JS ERROR or extension error in the shell's log, and none in the preferences", async () => {
    const disposed = shell.log().split("\n").filter((line) => /already (disposed|finalized)/.test(line));
    const [errors] = (await shell.call("org.gnome.Shell", "/org/gnome/Shell", "org.gnome.Shell.Extensions", "GetExtensionErrors", "s", [UUID])) as [string[]];
    expect(shell.jsErrors()).toEqual([]);
    expect(disposed).toEqual([]);
    expect(errors).toEqual([]);
    expect(shell.linesAbout(UUID)).toEqual([]);
    expect(prefsOutput.split("\n").filter((line) => /JS ERROR|JS WARNING|CRITICAL|selfheal/.test(line))).toEqual([]);
  });
});
}

// The extension in a session whose language is German (the locale is installed by
// scripts/test-deps.sh on this machine, and by the GNOME 48 root's recipe): the menu and the
// preferences come from the zip's locale/de/LC_MESSAGES/selfheal.mo.
export function describeInGerman(target: ShellTarget): void {
  describe(`${target.title}, in German (LANG=de_DE.UTF-8)`, () => {
    let german: ShellHarness;

    beforeAll(async () => {
      german = await startShell(target, "de_DE.UTF-8");
    }, 15 * 60_000);

    afterAll(async () => {
      await german?.stop();
    });

    it("shows the menu's tabs and the daemon-down view in German", async () => {
      expect(await german.eval("selfhealProbe.tabs()")).toEqual(["Prozesse", "Anomalien", "Zombies", "Abklingzeit"]);
      expect(await german.eval("selfhealProbe.state().summary")).toBe("selfheal läuft nicht");
    });

    it("shows the preferences' pages in German", async () => {
      const prefs = await german.openPreferences(UUID);
      try {
        expect(await prefs.eval("prefs.pageTitles().filter((title) => title !== '')")).toEqual(["Programme", "Oberleiste"]);
      } finally {
        await prefs.close();
      }
      expect(german.jsErrors()).toEqual([]);
    });
  });
}
