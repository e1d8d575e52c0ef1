// "Watch an app…" end to end in real, headless shells with the real daemon on the session's bus:
// GNOME Shell 48 with the GNOME 45+ build, then this machine's GNOME Shell 43 with the GNOME 42–44
// build. A real GTK application runs in the session: in GNOME 43, gtk3-demo (Debian's
// gtk-3-examples, which scripts/test-deps.sh installs; its desktop file is in /usr/share); in
// GNOME 48, whose Debian 13 root file system has no gtk-3-examples, a small GJS program of the
// test's with a desktop file in the session's ~/.local/share/applications. The Processes view offers
// the app by the name and icon the shell's app system gives it; one click makes the daemon watch it
// (SetPolicy with app, resolved from the desktop file), and its row appears with the app's name,
// the running copy adopted. Then it is no longer offered.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { DAEMON_JS, daemonNodeFlags, daemonShebangEnv } from "../helpers/command.js";
import type { ShellHarness } from "./harness.js";
import { eventually as eventuallyFor, ROOT, screenshotsOf, startShell, UUID } from "./endToEnd.js";
import type { ShellTarget } from "./endToEnd.js";

/** A shell, and the application run in it to be watched. */
interface AppTarget {
  target: ShellTarget;
  /** The desktop-file id, the name and icon the app has, and a word of its command line that finds its process. */
  id: string;
  name: string;
  icon: string;
  word: string;
  /** Writes what the app needs into the session (its desktop file, its program); returns its argv. */
  prepare(shell: ShellHarness): Promise<string[]>;
}

// A GTK 3 window under GJS, as a desktop app of the test's own: its application id names its desktop file.
const TEST_APP_ID = "io.github.SelfHeal1.TestApp";
const TEST_APP_JS = `imports.gi.versions.Gtk = "3.0";
const { Gtk } = imports.gi;
const app = new Gtk.Application({ application_id: "${TEST_APP_ID}" });
app.connect("activate", () => new Gtk.ApplicationWindow({ application: app, title: "selfheal test app" }).show_all());
app.run([]);
`;

const TARGETS: AppTarget[] = [
  {
    target: { title: "GNOME Shell 48, GNOME 45+ build", shell: "gnome48", build: "gnome45", screenshots: "gnome48", activeState: "ACTIVE" },
    id: `${TEST_APP_ID}.desktop`,
    name: "selfheal Test App",
    icon: "utilities-terminal",
    word: "selfheal-test-app.js",
    async prepare(shell) {
      const script = join(shell.env.HOME ?? "", "selfheal-test-app.js");
      await writeFile(script, TEST_APP_JS);
      const applications = join(shell.env.XDG_DATA_HOME ?? "", "applications");
      await mkdir(applications, { recursive: true });
      await writeFile(join(applications, `${TEST_APP_ID}.desktop`), `[Desktop Entry]\nType=Application\nName=selfheal Test App\nIcon=utilities-terminal\nExec=gjs ${script} %U\n`);
      return ["gjs", script];
    },
  },
  {
    target: { title: "GNOME Shell 43, GNOME 42–44 build", shell: "host", build: "gnome42", screenshots: "gnome43", activeState: "ENABLED" },
    id: "gtk3-demo.desktop",
    name: "GTK+ Demo",
    icon: "gtk3-demo",
    word: "gtk3-demo",
    prepare: async () => ["gtk3-demo"],
  },
];
const WAIT_MS = 30_000;
const hasGtkDemo = existsSync("/usr/share/applications/gtk3-demo.desktop") && existsSync("/usr/bin/gtk3-demo");

let shell: ShellHarness;
let daemon: ChildProcess | null = null;
let daemonOutput = "";
let demo: ChildProcess | null = null;

// The menu's widgets of one style class, read (or pressed) inside the shell.
const inMenu = (body: string): string => `(() => {
  const { St } = imports.gi;
  const all = (cls) => {
    const found = [];
    const walk = (actor) => {
      if (actor instanceof St.Widget && actor.has_style_class_name(cls)) found.push(actor);
      for (const child of actor.get_children()) walk(child);
    };
    walk(Main.panel.statusArea[${JSON.stringify(UUID)}].menu.box);
    return found;
  };
  ${body}
})()`;

// endToEnd.ts's eventually, with the daemon's output added to a timeout's message.
async function eventually<T>(what: string, check: () => Promise<T | false | null | undefined>): Promise<T> {
  try {
    return await eventuallyFor(what, WAIT_MS, check);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${daemonOutput}`);
  }
}

// The host PID of this session's app (the daemon sees host PIDs), or null.
function appPid(word: string): number | null {
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const ours = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`XDG_RUNTIME_DIR=${shell.env.XDG_RUNTIME_DIR}`);
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (ours && argv.some((arg) => arg === word || arg.endsWith(`/${word}`))) return Number(entry);
    } catch {
      // gone
    }
  }
  return null;
}

for (const { target, id: APP_ID, name: APP_NAME, icon: APP_ICON, word, prepare } of TARGETS) {
describe.skipIf(target.shell === "host" && !hasGtkDemo)(`${target.title}: Watch an app…`, () => {
  beforeAll(async () => {
    daemonOutput = "";
    shell = await startShell(target);
    const argv = await prepare(shell);
    const configDir = join(shell.env.XDG_CONFIG_HOME ?? "", "selfheal");
    await mkdir(configDir, { recursive: true });
    // Scans 10 s apart: the row has the adopted PID from SetPolicy's own look, not from a scan
    // (the daemon's first scan is at its start, before the app runs; the next one 10 s later).
    await writeFile(join(configDir, "config.toml"), "[settings]\ninterval = 10\n\n[notifications]\ndesktop = false\n");
    daemon = spawn(process.execPath, [...daemonNodeFlags(), DAEMON_JS, "daemon"], { cwd: ROOT, env: { ...shell.env, ...daemonShebangEnv() }, stdio: ["ignore", "pipe", "pipe"] });
    daemon.stdout?.on("data", (chunk: Buffer) => (daemonOutput += chunk.toString()));
    daemon.stderr?.on("data", (chunk: Buffer) => (daemonOutput += chunk.toString()));
    await eventually("the daemon on the session bus", async () => {
      const [owned] = (await shell.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", "s", ["io.github.SelfHeal1"])) as [boolean];
      return owned;
    });
    demo = shell.spawnInSession(argv[0]!, argv.slice(1));
  });

  afterAll(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((done) => daemon!.once("exit", done));
      daemon.kill("SIGTERM");
      await Promise.race([exited, sleep(5000)]);
    }
    demo?.kill("SIGKILL");
    await shell?.stop();
  }, 30_000);


  it("offers the running GTK application by its name, watches it with one click, and its row appears with the app's name, adopted", async () => {
    // The shell's app system knows gtk3-demo as a running app (its window is tracked to gtk3-demo.desktop).
    await eventually(`${APP_ID} running as the shell knows it`, () =>
      shell.eval<boolean>(`imports.gi.Shell.AppSystem.get_default().get_running().some((app) => app.get_id() === ${JSON.stringify(APP_ID)})`),
    );
    await eventually("the extension connected", () => shell.eval<boolean>(`selfhealProbe.state().present && selfhealProbe.state().level !== "offline"`));
    await shell.eval("selfhealProbe.open()");
    await shell.eval(`selfhealProbe.show("processes")`);
    await shell.eval(inMenu(`all("selfheal-watch-app")[0].emit("clicked", 1); return true;`));
    const offered = await eventually("the list of running apps", () =>
      shell.eval<string[]>(inMenu(`return all("selfheal-app-choice").filter((b) => b.get_parent().visible).map((b) => b.accessible_name);`)).then((names) => names.length > 0 && names),
    );
    expect(offered).toContain(APP_NAME);
    // Each choice shows the icon the shell gives the app.
    expect(await shell.eval<boolean>(inMenu(`const choice = all("selfheal-app-choice").find((b) => b.accessible_name === ${JSON.stringify(APP_NAME)}); return all("selfheal-app-icon").some((icon) => choice.contains(icon) && icon.gicon !== null);`))).toBe(true);

    await mkdir(screenshotsOf(target), { recursive: true });
    await sleep(300); // The list's layout settles before the screenshot.
    await shell.screenshotArea(join(screenshotsOf(target), "watch-app-list.png"), await shell.eval("selfhealProbe.menuArea(12)"));

    // The click and the row's PID timed inside the shell (GLib.get_real_time()), to the event.
    await shell.eval(`selfhealProbe.watchProcessRow(${JSON.stringify(APP_NAME)})`);
    const clickedUsec = await shell.eval<number>(
      inMenu(`const choice = all("selfheal-app-choice").find((b) => b.accessible_name === ${JSON.stringify(APP_NAME)}); const usec = imports.gi.GLib.get_real_time(); choice.emit("clicked", 1); return usec;`),
    );
    // Left alone for a moment first: each look (an Eval) takes the shell's main thread, which the
    // reply's handling and the row's frame wait for.
    await sleep(500);
    const times = await eventually("the app's row with a PID, painted", () =>
      shell
        .eval<{ pid: string; pidUsec: number; paintUsec: number | null; frames: number; framesWithNeither: number; listGoneFirst: boolean; pidAtInsert: boolean | null } | null>("selfhealProbe.rowTimes")
        .then((got) => got?.paintUsec != null && got),
    );
    // The view changes once: the list of apps goes as the row comes, in the same frame (the row's
    // records fetched before the list is hidden), never a frame of the menu with neither.
    expect(times.listGoneFirst).toBe(false);
    expect(times.framesWithNeither).toBe(0);
    // The row came with the adopted PID (from the records answered with the edit), not "—" filled
    // in by a later refresh after a scan.
    expect(times.pidAtInsert).toBe(true);
    const row = (await shell.eval<Array<{ name: string; pid: string }>>("selfhealProbe.rows('processes')")).find((candidate) => candidate.name === APP_NAME);
    expect(row?.pid).toBe(times.pid);
    const pid = appPid(word);
    expect(pid).not.toBeNull();
    expect(row?.pid).toBe(String(pid));
    const [record] = (await shell.call("io.github.SelfHeal1", "/io/github/SelfHeal1", "io.github.SelfHeal1.Manager", "GetProcess", "s", [APP_ID.replace(/\.desktop$/, "")])) as [Record<string, { value: unknown }>];
    expect(Object.fromEntries(Object.entries(record).map(([key, variant]) => [key, variant.value]))).toMatchObject({ pid, managed: false, app_id: APP_ID, app_name: APP_NAME, app_icon: APP_ICON });
    // The row shows the app's icon.
    expect(await shell.eval<boolean>(inMenu(`return all("selfheal-process-row").some((r) => all("selfheal-app-icon").some((icon) => r.contains(icon)));`))).toBe(true);
    // A watched app is offered no more.
    await shell.eval(inMenu(`all("selfheal-watch-app")[0].emit("clicked", 1); return true;`));
    const after = await shell.eval<string[]>(inMenu(`return all("selfheal-app-choice").map((b) => b.accessible_name);`));
    expect(after).not.toContain(APP_NAME);
    await shell.screenshotArea(join(screenshotsOf(target), "watch-app.png"), await shell.eval("selfhealProbe.menuArea(12)"));
    console.log(
      `\nWatch an app…, ${target.title}: click → the row's PID set ${((times.pidUsec - clickedUsec) / 1000).toFixed(1)} ms, its frame painted ${((times.paintUsec! - clickedUsec) / 1000).toFixed(1)} ms, ${times.frames} frames painted from the click (read in the shell, to the event)\n`,
    );
    expect(shell.jsErrors()).toEqual([]);
    expect(shell.linesAbout(UUID)).toEqual([]);
  });
});
}
