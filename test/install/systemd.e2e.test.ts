// install.sh under a real systemd user manager, end to end: a Debian 13 container booted with
// systemd-nspawn (scripts/systemd-user-container.sh), the user "tester" in it with a lingering
// `systemd --user` and its session bus. In order: install (the daemon started through D-Bus
// activation as selfheal.service), a watched program crashed and restarted, an upgrade (install.sh
// again: a new daemon, the program still running and said so), uninstall (the daemon stopped, the
// files gone, the program still running and said so), then --purge. The unit is checked by
// `systemd-analyze verify` too. Needs root and systemd-nspawn (scripts/test-deps.sh).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAEMON_NODE, REPO } from "../helpers/bus.js";

const CONTAINER = join(REPO, "scripts/systemd-user-container.sh");
/** Booting systemd and the user manager on a loaded machine; a clean halt. */
const BOOT_MS = 120_000;
/** How long a condition inside the container may take to come true (a restart, an activation). */
const WAIT_MS = 30_000;
const POLL_MS = 200;
const HOME = "/home/tester";
const CHECKOUT = `${HOME}/selfheal`;
const PROGRAM = "napper";

const CONFIG = `[settings]
interval = 0.5

[process.${PROGRAM}]
command = ["${HOME}/bin/${PROGRAM}", "infinity"]
autostart = true
restart = "on-failure"
`;

let dir = "";

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

// Run a shell command as tester in the container, with the session's environment.
function asUser(script: string): Result {
  const result = spawnSync("bash", [CONTAINER, "user", dir, "bash", "-c", script], { encoding: "utf8", timeout: BOOT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The same, which must succeed; its stdout.
function mustAsUser(script: string): string {
  const result = asUser(script);
  if (result.status !== 0) throw new Error(`in the container: ${script}\nexit ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

function unitProperty(name: string): string {
  return mustAsUser(`systemctl --user show selfheal.service -P ${name}`).trim();
}

// The watched program's PID as the daemon reports it (0 when not running).
function programPid(): number {
  const status = JSON.parse(mustAsUser("selfheal status --json")) as { processes: { name: string; pid: number }[] };
  return status.processes.find((p) => p.name === PROGRAM)?.pid ?? 0;
}

function alive(pid: number): boolean {
  return asUser(`kill -0 ${pid}`).status === 0;
}

async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe("install.sh under a real systemd user manager", { timeout: BOOT_MS }, () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "selfheal-systemd-"));
    execFileSync("bash", [CONTAINER, "start", dir], {
      // The daemon runs on the tests' daemon Node.js (18.19 in the run of scripts/node18.sh).
      env: { ...process.env, SELFHEAL_CONTAINER_BIND_RO: `${REPO}:/src`, SELFHEAL_CONTAINER_NODE: DAEMON_NODE },
      stdio: ["ignore", "inherit", "inherit"],
      timeout: BOOT_MS,
    });
    // The checkout as a user has it, built (npm run build ran before the tests), without node_modules.
    mustAsUser(
      `mkdir -p ${CHECKOUT} ${HOME}/bin ${HOME}/.config/selfheal && ` +
        `tar -C /src --exclude=./node_modules --exclude=./.git -cf - install.sh dist dbus docs completions README.md LICENSE | tar -C ${CHECKOUT} -xf - && ` +
        `cp /bin/sleep ${HOME}/bin/${PROGRAM} && cat > ${HOME}/.config/selfheal/config.toml <<'EOF'\n${CONFIG}EOF`,
    );
  }, BOOT_MS);

  afterAll(() => {
    if (dir === "") return;
    execFileSync("bash", [CONTAINER, "stop", dir], { stdio: "inherit", timeout: BOOT_MS });
    rmSync(dir, { recursive: true, force: true });
  }, BOOT_MS);

  let firstDaemon = 0;
  let program = 0;

  it("installs, and the bus starts the daemon as the systemd unit", () => {
    const out = mustAsUser(`cd ${CHECKOUT} && ./install.sh --no-build 2>&1`);
    expect(mustAsUser("node --version").trim()).toBe(execFileSync(DAEMON_NODE, ["--version"], { encoding: "utf8" }).trim());
    expect(unitProperty("ActiveState")).toBe("active");
    firstDaemon = Number(unitProperty("MainPID"));
    // dbus-daemon asked systemd for the unit: the activation file's SystemdService= did it.
    expect(mustAsUser("journalctl --user --no-pager -o cat")).toMatch(/Activating via systemd: service name='io\.github\.SelfHeal1' unit='selfheal\.service'/);
    expect(out).toContain(`started the daemon (PID ${firstDaemon})`);
    expect(out).toContain("journalctl --user -u selfheal");
    expect(unitProperty("UnitFileState")).toBe("enabled");
  });

  it("passes systemd-analyze verify, and the activation file names the unit and its bus name", () => {
    const verify = asUser(`systemd-analyze --user verify ${HOME}/.config/systemd/user/selfheal.service 2>&1`);
    expect(verify.stdout).toBe("");
    expect(verify.status).toBe(0);
    const activation = mustAsUser(`cat ${HOME}/.local/share/dbus-1/services/io.github.SelfHeal1.service`);
    expect(activation).toMatch(/^Name=io\.github\.SelfHeal1$/m);
    expect(activation).toMatch(/^SystemdService=selfheal\.service$/m);
    expect(mustAsUser(`cat ${HOME}/.config/systemd/user/selfheal.service`)).toMatch(/^BusName=io\.github\.SelfHeal1$/m);
  });

  it("sends the daemon's log to the journal", async () => {
    await waitFor("the daemon's ready line in the journal", () => mustAsUser("journalctl --user -u selfheal --no-pager -o cat").includes("selfheal: watching 1 program"));
  });

  it("restarts a watched program that crashes", async () => {
    const before = await waitFor("the program to be started", () => programPid() || undefined);
    mustAsUser(`kill -SEGV ${before}`);
    program = await waitFor("a restart after the crash", () => {
      const pid = programPid();
      return pid !== 0 && pid !== before ? pid : undefined;
    });
    expect(mustAsUser("selfheal events --json")).toMatch(/SIGSEGV/);
  });

  it("upgrades: install.sh again restarts the daemon, the program keeps running, and it says so", async () => {
    const out = mustAsUser(`cd ${CHECKOUT} && ./install.sh --no-build 2>&1`);
    const secondDaemon = Number(unitProperty("MainPID"));
    expect(secondDaemon).not.toBe(firstDaemon);
    expect(secondDaemon).toBeGreaterThan(0);
    expect(out).toContain(`upgraded: restarted the daemon on the new version (PID ${firstDaemon} -> ${secondDaemon})`);
    expect(out).toContain(`the programs it watches kept running: ${PROGRAM} (PID ${program})`);
    expect(alive(program)).toBe(true);
    // The new daemon takes it back as its own: the same process.
    await waitFor("the new daemon to report the program", () => programPid() === program);
  });

  it("uninstalls: the daemon stopped, the files gone, the program still running, config kept", () => {
    const daemon = Number(unitProperty("MainPID"));
    const out = mustAsUser(`cd ${CHECKOUT} && ./install.sh --uninstall </dev/null 2>&1`);
    expect(unitProperty("ActiveState")).toBe("inactive");
    expect(alive(daemon)).toBe(false);
    expect(alive(program)).toBe(true);
    expect(out).toContain(`stopped the daemon (PID ${daemon})`);
    expect(out).toContain(`the programs it watched keep running, now unwatched: ${PROGRAM} (PID ${program})`);
    const left = mustAsUser(
      `for f in .local/bin/selfheal .local/share/selfheal .local/share/dbus-1/services/io.github.SelfHeal1.service ` +
        `.config/systemd/user/selfheal.service .local/share/gnome-shell/extensions/selfheal@selfheal.github.io; do [ -e ${HOME}/$f ] && echo $f; done; true`,
    );
    expect(left).toBe("");
    expect(asUser(`test -f ${HOME}/.config/selfheal/config.toml`).status).toBe(0);
    expect(out).toContain("./install.sh --uninstall --purge removes them");
    // Nothing starts it again: the activation file is gone.
    expect(asUser("busctl --user call io.github.SelfHeal1 /io/github/SelfHeal1 io.github.SelfHeal1.Manager ListProcesses").status).not.toBe(0);
  });

  it("--purge removes config and state too", () => {
    const out = mustAsUser(`cd ${CHECKOUT} && ./install.sh --uninstall --purge 2>&1`);
    expect(mustAsUser(`ls -A ${HOME}/.config ${HOME}/.local/state`)).not.toMatch(/selfheal/);
    expect(out).toContain("removed your config");
    expect(alive(program)).toBe(true);
    mustAsUser(`kill ${program}`);
  });
});
