// install.sh on a desktop with no Node.js, end to end, where the distribution's Node.js is 18: the
// Debian 12 ("bookworm", systemd 252) container of scripts/systemd-user-container.sh booted without
// any Node.js (SELFHEAL_CONTAINER_NODE=none), its apt reaching Debian's mirror (the .debs and lists
// kept between runs under ~/.cache). The user "tester" runs ./install.sh: first without sudo (told
// what is missing and what to run as root), then with sudo, when install.sh installs Debian 12's
// `nodejs` (Node.js 18) with apt-get, and the daemon it installs runs on that Node.js (its
// /proc/PID/exe is the package's binary, and that binary says 18), answers on the session bus, and
// restarts a watched program that crashes. Debian 13's systemd and Node.js 20 are the other
// container test's (systemd.e2e.test.ts). Needs root, systemd-nspawn and Debian's mirror
// (scripts/test-deps.sh).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTAINER_BOOT_MS, copyCheckout, startContainer, TESTER_HOME as HOME, waitFor, watchedPid, watchedProgramConfig, type Container } from "../helpers/container.js";

const CHECKOUT = `${HOME}/selfheal`;
const PROGRAM = "napper";
/** apt-get update and the download of nodejs (about 14 MB) when the cache is cold, on a loaded machine. */
const INSTALL_MS = 600_000;
/** Debian 12: its release, its systemd, and the major version of its nodejs. */
const SUITE = "bookworm";
const VERSION_ID = "12";
const SYSTEMD = "systemd 252";
const NODE_MAJOR = 18;
/** The oldest Node.js 18 install.sh accepts: 18.19. */
const MIN_MINOR = 19;
/** How Debian marks a package rebuilt for Debian 12 (a stable update: 18.20.4+dfsg-1~deb12u2). */
const DEBIAN_12_BUILD = /~deb12u\d+$/;

const CONFIG = watchedProgramConfig(PROGRAM);

/** How Node.js starts a warning it prints (an experimental or deprecated API, say): "(node:PID) ". */
const NODE_WARNING = /\(node:\d+\) /;

let box: Container | undefined;
let daemon = 0;
const container = (): Container => {
  if (!box) throw new Error("the container did not start");
  return box;
};

describe("install.sh where Node.js is missing: Debian 12's nodejs, Node.js 18, installed with apt", { timeout: CONTAINER_BOOT_MS }, () => {
  beforeAll(() => {
    box = startContainer({ suite: SUITE, node: "none", aptCache: true });
    copyCheckout(box, CHECKOUT, CONFIG);
    box.mustAsUser(`mkdir -p ${HOME}/bin && cp /bin/sleep ${HOME}/bin/${PROGRAM}`);
  }, CONTAINER_BOOT_MS);

  afterAll(() => box?.stop(), CONTAINER_BOOT_MS);

  it("boots Debian 12 with its systemd 252 and the user's manager", () => {
    expect(container().mustAsUser(". /etc/os-release && echo $VERSION_ID").trim()).toBe(VERSION_ID);
    expect(container().mustAsUser("systemctl --user --version | head -n 1")).toMatch(new RegExp(`^${SYSTEMD} `));
    expect(container().mustAsUser("systemctl --user is-system-running").trim()).toBe("running");
  });

  it("without sudo, says that Node.js is missing and what to run as root, and installs nothing", () => {
    expect(container().asUser("command -v node nodejs npm").stdout).toBe("");
    expect(container().asUser("command -v sudo").status).not.toBe(0);
    const result = container().asUser(`cd ${CHECKOUT} && ./install.sh --no-build`);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("selfheal: missing: Node.js 18.19 or later.");
    expect(result.stderr).toContain("there is no sudo: as root, run 'apt-get install nodejs', then ./install.sh again");
    expect(result.stderr).not.toMatch(/command not found/);
    expect(container().asUser(`test -e ${HOME}/.local/share/selfheal`).status).not.toBe(0);
  });

  it("with sudo, installs Debian 12's nodejs with apt-get, and the daemon runs on that Node.js 18 and answers on the bus", () => {
    // A desktop user who may administer the machine (sudo's password prompt left out).
    container().mustAsRoot("apt-get update -qq && apt-get install -y -qq --no-install-recommends sudo >/dev/null", INSTALL_MS);
    container().mustAsRoot("echo 'tester ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/tester && chmod 440 /etc/sudoers.d/tester");
    const out = container().mustAsUser(`cd ${CHECKOUT} && ./install.sh --no-build 2>&1`, INSTALL_MS);
    expect(out).toContain("selfheal: missing: Node.js 18.19 or later; installing nodejs (apt-get, through sudo)");
    expect(container().mustAsUser("dpkg-query -W -f '${Status}' nodejs")).toBe("install ok installed");
    expect(container().mustAsUser("dpkg-query -W -f '${Version}' nodejs")).toMatch(DEBIAN_12_BUILD);
    expect(container().mustAsUser("command -v node").trim()).toBe("/usr/bin/node");
    // The selfheal command and the unit run Debian's node.
    expect(container().mustAsUser(`cat ${HOME}/.local/bin/selfheal`)).toContain('"/usr/bin/node"');
    daemon = Number(container().mustAsUser("systemctl --user show selfheal.service -P MainPID").trim());
    expect(daemon).toBeGreaterThan(0);
    expect(out).toContain(`started the daemon (PID ${daemon})`);
    // systemd 252's user manager started it: dbus-daemon asked it for the unit (SystemdService=).
    const journal = container().mustAsUser("journalctl --user --no-pager -o cat");
    expect(journal).toMatch(/Activating via systemd: service name='io\.github\.SelfHeal1' unit='selfheal\.service'/);
    // The binary the daemon's process runs: the nodejs package's file, and it is Node.js 18.
    const exe = container().mustAsRoot(`readlink /proc/${daemon}/exe`).trim();
    expect(exe).toMatch(/^\/usr\/bin\/node(js)?$/);
    expect(container().mustAsRoot(`dpkg-query -S ${exe}`).trim()).toBe(`nodejs: ${exe}`);
    const version = container().mustAsRoot(`/proc/${daemon}/exe --version`).trim();
    const [major = 0, minor = 0] = version.slice(1).split(".").map(Number);
    expect(major, `the daemon's node is ${version}`).toBe(NODE_MAJOR);
    expect(minor, `the daemon's node is ${version}`).toBeGreaterThanOrEqual(MIN_MINOR);
    expect(container().mustAsUser("selfheal status")).toContain("1 program watched");
    const listed = container().mustAsUser("busctl --user call io.github.SelfHeal1 /io/github/SelfHeal1 io.github.SelfHeal1.Manager ListProcesses");
    expect(listed).toContain(`"${PROGRAM}"`);
  }, 2 * INSTALL_MS);

  it("restarts a watched program that crashes", async () => {
    const before = await waitFor("the program to be started", () => watchedPid(container(), PROGRAM) || undefined);
    container().mustAsUser(`kill -SEGV ${before}`);
    const after = await waitFor("a restart after the crash", () => {
      const pid = watchedPid(container(), PROGRAM);
      return pid !== 0 && pid !== before ? pid : undefined;
    });
    expect(container().mustAsUser("selfheal events --json")).toMatch(/SIGSEGV/);
    container().mustAsUser(`kill ${after}`);
    // The same daemon did it, and Node.js 18 printed no warning about what it runs.
    expect(Number(container().mustAsUser("systemctl --user show selfheal.service -P MainPID").trim())).toBe(daemon);
    expect(container().mustAsUser("journalctl --user -u selfheal --no-pager -o cat")).not.toMatch(NODE_WARNING);
  });
});
