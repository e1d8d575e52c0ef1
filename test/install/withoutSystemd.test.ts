// install.sh in a session without systemd (this machine's): a home folder of the test's own and a
// private session bus that watches its D-Bus services folder, as a desktop's bus does. The bus
// starts the daemon (the activation file's Exec=), which then logs to
// ~/.local/state/selfheal/daemon.log; an upgrade stops it by its PID and the bus starts the new
// one; --uninstall --purge stops it and removes everything; the watched program runs throughout.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAEMON_NODE, killProgramsIn, makeTempDir, REPO, startPrivateBus, waitUntil, type PrivateBus } from "../helpers/bus.js";

const PROGRAM = "selfheal-test-napper";
const WAIT_MS = 30_000;
/** A tmpfs, as a session's runtime folder is. */
const SHM = "/dev/shm";

let home = "";
let runtime = "";
let bus: PrivateBus | undefined;
let env: NodeJS.ProcessEnv = {};

function install(...args: string[]): string {
  const result = spawnSync("bash", [join(REPO, "install.sh"), "--no-build", ...args], { env, encoding: "utf8", timeout: 120_000 });
  const out = result.stdout + result.stderr;
  if (result.status !== 0) throw new Error(`install.sh ${args.join(" ")}: exit ${result.status}\n${out}`);
  return out;
}

// install.sh --uninstall on a terminal (util-linux's script gives it one), answering its question.
function uninstallOnTerminal(answer: string): string {
  const command = `bash ${join(REPO, "install.sh")} --uninstall`;
  const result = spawnSync("script", ["-qec", command, "/dev/null"], { env, input: `${answer}\n`, encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`install.sh --uninstall on a terminal: exit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
}

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

// The watched program's PID as the daemon reports it (0 when not running).
function programPid(): number {
  const result = spawnSync(join(home, ".local/bin/selfheal"), ["status", "--json"], { env, encoding: "utf8" });
  if (result.status !== 0) return 0;
  const status = JSON.parse(result.stdout) as { processes: { name: string; pid: number }[] };
  return status.processes.find((p) => p.name === "napper")?.pid ?? 0;
}

const daemonLog = (): string => join(home, ".local/state/selfheal/daemon.log");
const pidIn = (out: string, pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? 0);

describe("install.sh without systemd", () => {
  beforeAll(async () => {
    home = makeTempDir("home");
    runtime = mkdtempSync(join(existsSync(SHM) ? SHM : home, "selfheal-runtime-"));
    // The bus watches only the service folders that exist when it starts.
    mkdirSync(join(home, ".local/share/dbus-1/services"), { recursive: true });
    mkdirSync(join(home, ".config/selfheal"), { recursive: true });
    mkdirSync(join(home, "bin"));
    copyFileSync("/bin/sleep", join(home, "bin", PROGRAM));
    writeFileSync(
      join(home, ".config/selfheal/config.toml"),
      `[settings]\ninterval = 0.5\n\n[process.napper]\ncommand = ["${join(home, "bin", PROGRAM)}", "infinity"]\nautostart = true\n`,
    );
    // install.sh installs the daemon for the first node on PATH: the tests' daemon Node.js (18.19 in the run of scripts/node18.sh).
    const path = `${dirname(DAEMON_NODE)}:${process.env.PATH ?? ""}`;
    const sessionEnv: NodeJS.ProcessEnv = { ...process.env, PATH: path, HOME: home, XDG_RUNTIME_DIR: runtime };
    for (const name of ["XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "INVOCATION_ID", "JOURNAL_STREAM"]) delete sessionEnv[name];
    bus = await startPrivateBus({ serviceDirs: [join(home, ".local/share/dbus-1/services")], env: sessionEnv });
    env = { ...sessionEnv, DBUS_SESSION_BUS_ADDRESS: bus.address };
  });

  afterAll(async () => {
    // A daemon left by a failed step first (it would restart the program), then the keepers and the program.
    if (daemon > 0 && alive(daemon) && commandLine(daemon).some((arg) => arg.startsWith(home))) process.kill(daemon, "SIGKILL");
    killProgramsIn(home);
    await bus?.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  });

  let daemon = 0;
  let program = 0;

  it("installs; the bus starts the daemon, which logs to daemon.log; says how to put ~/.local/bin on PATH", async () => {
    const out = install();
    daemon = pidIn(out, /started the daemon \(PID (\d+)\)/);
    expect(daemon).toBeGreaterThan(0);
    // The activation file's Exec= line (dbus-daemon's activation helper is its parent, reparented when it ends).
    expect(commandLine(daemon).slice(-2)).toEqual(["daemon", "--log-file"]);
    expect(commandLine(daemon)[0]).toBe(DAEMON_NODE);
    expect(out).toContain(`its log: ${daemonLog()}`);
    await waitUntil(() => existsSync(daemonLog()) && readFileSync(daemonLog(), "utf8").includes("selfheal: watching 1 program ("), WAIT_MS, () => "the ready line in daemon.log");
    expect(readFileSync(daemonLog(), "utf8")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z selfheal: /m);
    // The sentinel installed beside the daemon, and run from there (no "no sentinel" line).
    const sentinel = join(home, ".local/share/selfheal/selfheal-sentinel");
    expect(existsSync(sentinel)).toBe(true);
    expect(readFileSync(daemonLog(), "utf8")).not.toContain("no sentinel");
    const children = readFileSync(`/proc/${daemon}/task/${daemon}/children`, "latin1").trim().split(" ").filter(Boolean);
    expect(children.filter((child) => readFileSync(`/proc/${child}/comm`, "latin1").trim() === "selfheal-sentin").map((child) => readlinkSync(`/proc/${child}/exe`))).toEqual([sentinel]);
    expect(out).toContain(`${home}/.local/bin is not on your PATH`);
    expect(out).toContain('export PATH="$HOME/.local/bin:$PATH"');
    expect(existsSync(join(home, ".local/share/bash-completion/completions/selfheal"))).toBe(true);
    const config = readFileSync(join(home, ".config/selfheal/config.toml"), "utf8");
    expect(config).toContain("[process.napper]"); // an existing config is never replaced
  });

  it("upgrades: stops the daemon by its PID, the bus starts the new one, the program keeps running", async () => {
    await waitUntil(() => (program = programPid()) > 0, WAIT_MS, () => "the program to start");
    const out = install();
    const second = pidIn(out, /restarted the daemon on the new version \(PID \d+ -> (\d+)\)/);
    expect(out).toContain(`(PID ${daemon} -> ${second})`);
    expect(second).not.toBe(daemon);
    expect(alive(daemon)).toBe(false);
    expect(alive(second)).toBe(true);
    expect(alive(program)).toBe(true);
    expect(out).toContain(`the programs it watches kept running: napper (PID ${program})`);
    await waitUntil(() => programPid() === program, WAIT_MS, () => "the new daemon to take the program back");
    daemon = second;
  });

  it("uninstalls with --purge: daemon stopped, files, config and state gone, the program still running", () => {
    const out = install("--uninstall", "--purge");
    expect(alive(daemon)).toBe(false);
    expect(alive(program)).toBe(true);
    expect(out).toContain(`stopped the daemon (PID ${daemon})`);
    expect(out).toContain(`now unwatched: napper (PID ${program})`);
    expect(readdirSync(join(home, ".local/share/dbus-1/services"))).toEqual([]);
    const completion = ".local/share/bash-completion/completions/selfheal";
    for (const gone of [".local/bin/selfheal", ".local/share/selfheal", completion, ".config/selfheal", ".local/state/selfheal"]) {
      expect(existsSync(join(home, gone)), gone).toBe(false);
    }
  });

  it("writes a starter config that points to documentation it installed", () => {
    const out = install();
    daemon = pidIn(out, /started the daemon \(PID (\d+)\)/);
    expect(out).toContain(`wrote a starter ${home}/.config/selfheal/config.toml`);
    const docs = /^# Every key, with its default: (\S+)$/m.exec(readFileSync(join(home, ".config/selfheal/config.toml"), "utf8"))?.[1] ?? "";
    expect(docs).toBe(join(home, ".local/share/selfheal/docs/configuration.md"));
    expect(readFileSync(docs, "utf8")).toContain("# ");
  });

  it("--uninstall on a terminal asks about config and state: no keeps them, yes removes them", () => {
    const no = uninstallOnTerminal("n");
    expect(no).toContain("also remove your config");
    expect(no).toContain("kept your config");
    expect(alive(daemon)).toBe(false);
    expect(existsSync(join(home, ".config/selfheal/config.toml"))).toBe(true);
    expect(existsSync(join(home, ".local/bin/selfheal"))).toBe(false);
    const yes = uninstallOnTerminal("y");
    expect(yes).toContain("removed your config");
    expect(existsSync(join(home, ".config/selfheal"))).toBe(false);
    expect(existsSync(join(home, ".local/state/selfheal"))).toBe(false);
  });
});
