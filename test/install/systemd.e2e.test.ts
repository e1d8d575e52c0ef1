// install.sh under a real systemd user manager, end to end: a Debian 13 container booted with
// systemd-nspawn (scripts/systemd-user-container.sh), the user "tester" in it with a lingering
// `systemd --user` and its session bus. In order: install (the daemon started through D-Bus
// activation as selfheal.service), a watched program crashed and restarted, an upgrade (install.sh
// again: a new daemon, the program still running and said so), uninstall (the daemon stopped, the
// files gone, the program still running and said so), then --purge. The unit is checked by
// `systemd-analyze verify` too. Needs root and systemd-nspawn (scripts/test-deps.sh).
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAEMON_NODE } from "../helpers/bus.js";
import { CONTAINER_BOOT_MS, copyCheckout, startContainer, TESTER_HOME as HOME, waitFor, watchedPid, watchedProgramConfig, type Container } from "../helpers/container.js";

const CHECKOUT = `${HOME}/selfheal`;
const PROGRAM = "napper";

const CONFIG = watchedProgramConfig(PROGRAM);

let box: Container | undefined;

const asUser = (script: string) => box!.asUser(script);
const mustAsUser = (script: string) => box!.mustAsUser(script);

function unitProperty(name: string): string {
  return mustAsUser(`systemctl --user show selfheal.service -P ${name}`).trim();
}

const programPid = (): number => watchedPid(box!, PROGRAM);

function alive(pid: number): boolean {
  return asUser(`kill -0 ${pid}`).status === 0;
}

describe("install.sh under a real systemd user manager", { timeout: CONTAINER_BOOT_MS }, () => {
  beforeAll(() => {
    // The daemon runs on the tests' daemon Node.js (18.19 in the run of scripts/node18.sh).
    box = startContainer({ node: DAEMON_NODE });
    copyCheckout(box, CHECKOUT, CONFIG);
    mustAsUser(`mkdir -p ${HOME}/bin && cp /bin/sleep ${HOME}/bin/${PROGRAM}`);
  }, CONTAINER_BOOT_MS);

  afterAll(() => box?.stop(), CONTAINER_BOOT_MS);

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
    await waitFor("the daemon's ready line in the journal", () => mustAsUser("journalctl --user -u selfheal --no-pager -o cat").includes("selfheal: watching 1 program ("));
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
