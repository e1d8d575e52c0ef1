// The 50-row menu's open in the real headless shells, end to end: the same harness as the
// extension's end-to-end tests (test/extension/harness.ts and shell-probe.js), the extension
// installed from its zip, the real daemon watching 50 programs on the session's bus. GNOME Shell
// 48 (GNOME 45+ build) first, then GNOME Shell 43 (GNOME 42–44 build): one after the other, so
// that their figures are not taken side by side.
//
// In each shell, alternately: the first open of a fresh extension's menu (disabled and enabled,
// connected, the rows in sight built, as the tests open it), then a later open of the same menu;
// and the first open of a bare PanelMenu.Button's menu with one item, made for the sample, then a
// later open of it: the baseline of what the shell itself does to open a menu. Each open is
// timed inside the shell from the call: open() returned (the synchronous work, before which no
// frame can be painted) and the first frame painted, each with the main thread's CPU time.
//
//   node --import tsx bench/shellMenu.ts [--samples 10] [--shell gnome48|host] [--zips DIR]
// Needs root (the shells run in namespaces of their own) and `npm run build`. --zips takes the
// extension's zips from DIR instead of dist/extension (to compare two builds, one run after the
// other).
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { ShellKind } from "../test/extension/harness.js";
import { ShellHarness } from "../test/extension/harness.js";
import { DAEMON_JS, daemonNodeFlags, daemonShebangEnv } from "../test/helpers/command.js";
import { summarize } from "./stats.js";

const ROOT = resolve(import.meta.dirname, "..");
const UUID = "selfheal@selfheal.github.io";
const PROBE = join(ROOT, "test", "extension", "shell-probe.js");
const WATCHED = 50;
const DEFAULT_SAMPLES = 10;
const WAIT_MS = 30_000;
/** Time for the panel to lay out a new indicator (and a connected one to settle) before its open. */
const SETTLE_MS = 500;

interface Target {
  title: string;
  shell: ShellKind;
  build: string;
}

const TARGETS: Target[] = [
  { title: "GNOME Shell 48, GNOME 45+ build", shell: "gnome48", build: "gnome45" },
  { title: "GNOME Shell 43, GNOME 42–44 build", shell: "host", build: "gnome42" },
];

// Evaluated in the shell after shell-probe.js: the baseline menu, and an open timed as the
// probe's timeMenuBuild() times it (open() returned; the first frame painted; main thread CPU).
const BENCH_PROBE = String.raw`(() => {
  const { GLib, St } = imports.gi;
  const probe = globalThis.selfhealProbe;
  const ROLE = "selfheal-bench-baseline";
  const cpuMs = () => Number(new TextDecoder().decode(GLib.file_get_contents("/proc/thread-self/schedstat")[1]).split(" ")[0]) / 1e6;
  // The shell's PanelMenu and PopupMenu: GNOME 45+ as ES modules, loaded once (asynchronously).
  let legacy = null;
  try {
    legacy = imports.ui.panelMenu ? { PanelMenu: imports.ui.panelMenu, PopupMenu: imports.ui.popupMenu } : null;
  } catch {
    legacy = null;
  }
  if (legacy === null) {
    Promise.all([import("resource:///org/gnome/shell/ui/panelMenu.js"), import("resource:///org/gnome/shell/ui/popupMenu.js")])
      .then(([PanelMenu, PopupMenu]) => (probe.benchModules = { PanelMenu, PopupMenu }))
      .catch((error) => (probe.benchModules = { error: String(error) }));
  } else {
    probe.benchModules = legacy;
  }
  // A fresh bare indicator in the panel: its menu has one item and was never opened.
  probe.makeBaseline = () => {
    const { PanelMenu, PopupMenu } = probe.benchModules;
    Main.panel.statusArea[ROLE]?.destroy();
    const button = new PanelMenu.Button(0.0, "selfheal bench baseline", false);
    button.add_child(new St.Icon({ icon_name: "system-run-symbolic", style_class: "system-status-icon" }));
    button.menu.addMenuItem(new PopupMenu.PopupMenuItem("One item"));
    Main.panel.addToStatusArea(ROLE, button);
    return true;
  };
  probe.dropBaseline = () => (Main.panel.statusArea[ROLE]?.destroy(), true);
  probe.timeOpen = (which) => {
    const menu = which === "baseline" ? Main.panel.statusArea[ROLE].menu : probe.button().menu;
    const times = { openMs: null, openCpuMs: null, firstFrameMs: null, firstFrameCpuMs: null };
    probe.openTimes = times;
    const start = GLib.get_monotonic_time();
    const startCpu = cpuMs();
    const paintId = global.stage.connect("after-paint", () => {
      times.firstFrameMs = (GLib.get_monotonic_time() - start) / 1000;
      times.firstFrameCpuMs = cpuMs() - startCpu;
      global.stage.disconnect(paintId);
    });
    menu.open(false);
    times.openMs = (GLib.get_monotonic_time() - start) / 1000;
    times.openCpuMs = cpuMs() - startCpu;
    return true;
  };
  probe.closeMenus = () => {
    probe.button()?.menu.close(false);
    Main.panel.statusArea[ROLE]?.menu.close(false);
    return true;
  };
  return true;
})()`;

interface OpenTimes {
  openMs: number;
  openCpuMs: number;
  firstFrameMs: number;
  firstFrameCpuMs: number;
}

const sleeperArg = (i: number): string => `${100000 + i}.${String(process.pid).padStart(7, "0")}`;

// 50 sleeps, each with an argument of its own (and of this run), matched by regex; 0.25 s scans,
// as in the end-to-end tests (the rows' sparklines draw the samples of GetHistory).
function configToml(): string {
  const lines = ["[settings]", "interval = 0.25", "", "[notifications]", "desktop = false"];
  for (let i = 1; i <= WATCHED; i++) {
    const arg = sleeperArg(i);
    lines.push("", `[process.sleeper-${String(i).padStart(2, "0")}]`, `command = ["sleep", "${arg}"]`, `match = ${JSON.stringify(`/^sleep ${arg.replace(".", "\\.")}$/`)}`, "autostart = true");
  }
  return lines.join("\n") + "\n";
}

async function until<T>(what: string, check: () => Promise<T | false | null | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== false && value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms: ${what}`);
    await sleep(50);
  }
}

function line(label: string, values: number[]): string {
  const s = summarize(values);
  return `${label} median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${Math.max(...values).toFixed(1)})`;
}

async function benchShell(target: Target, samples: number, zipDir: string): Promise<void> {
  const zip = join(zipDir, `${UUID}.${target.build}.shell-extension.zip`);
  if (!existsSync(zip) || !existsSync(DAEMON_JS)) throw new Error("run npm run build first");
  const shell = await ShellHarness.start({ shell: target.shell, zips: [zip], enabled: [UUID] });
  let daemon: ChildProcess | null = null;
  try {
    await shell.eval(await readFile(PROBE, "utf8"));
    await shell.eval(BENCH_PROBE);
    const modules = await until("the shell's PanelMenu and PopupMenu", () => shell.eval<{ error?: string } | null>("selfhealProbe.benchModules ? { error: selfhealProbe.benchModules.error } : null"));
    if (modules.error) throw new Error(`the shell's PanelMenu and PopupMenu: ${modules.error}`);
    const configDir = join(shell.env.XDG_CONFIG_HOME ?? "", "selfheal");
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, "config.toml"), configToml());
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries({ ...shell.env, ...daemonShebangEnv() })) if (value !== undefined) env[key] = value;
    daemon = shell.spawnOnHost(process.execPath, [...daemonNodeFlags(), DAEMON_JS, "daemon"], { env, cwd: ROOT });
    const probe = <T>(call: string): Promise<T> => shell.eval<T>(`selfhealProbe.${call}`);
    const connected = async (): Promise<boolean> => {
      const state = await probe<{ present: boolean; level: string | null }>("state()");
      return state.present && state.level !== null && state.level !== "offline";
    };
    await until("the extension connected", connected);
    await until(`${WATCHED} programs running`, async () => (await probe<number>("processRowCount()")) > 0);
    const timed = async (which: "ours" | "baseline"): Promise<OpenTimes> => {
      await probe(`timeOpen("${which}")`);
      return until("the open's first frame", async () => {
        const times = await probe<OpenTimes | null>("openTimes");
        return times && times.firstFrameMs !== null ? times : null;
      });
    };
    const runs: Record<string, OpenTimes[]> = { ours: [], oursLater: [], baseline: [], baselineLater: [] };
    const loads: string[] = [loadavg()[0]!.toFixed(2)];
    for (let sample = 0; sample < samples; sample++) {
      // Ours: a fresh extension, connected, its rows in sight built, its menu never opened.
      await probe("cycle()");
      await until("the extension connected", connected);
      await until("the rows in sight", async () => (await probe<number>("processRowCount()")) > 0);
      await probe("show('processes')");
      await sleep(SETTLE_MS);
      runs.ours!.push(await timed("ours"));
      await until("all rows built", async () => (await probe<number>("processRowCount()")) === WATCHED);
      await sleep(SETTLE_MS);
      await probe("closeMenus()");
      await sleep(SETTLE_MS);
      runs.oursLater!.push(await timed("ours"));
      await probe("closeMenus()");
      // The baseline: a fresh bare indicator, its menu never opened.
      await probe("makeBaseline()");
      await sleep(SETTLE_MS);
      runs.baseline!.push(await timed("baseline"));
      await sleep(SETTLE_MS);
      await probe("closeMenus()");
      await sleep(SETTLE_MS);
      runs.baselineLater!.push(await timed("baseline"));
      await probe("closeMenus()");
      await probe("dropBaseline()");
    }
    loads.push(loadavg()[0]!.toFixed(2));
    const of = (name: string, key: keyof OpenTimes): number[] => runs[name]!.map((times) => times[key]);
    console.log(`\n${target.title}: menu open, ${samples} samples each, alternating (load average ${loads.join(" → ")}; ${zip}):`);
    for (const [name, label] of [
      ["ours", "selfheal's 50-row menu, first open of a fresh extension"],
      ["baseline", "a bare PanelMenu.Button with one item, first open"],
      ["oursLater", "selfheal's menu, a later open"],
      ["baselineLater", "the bare menu, a later open"],
    ] as const) {
      console.log(`  ${label}:`);
      console.log(`    ${line("open() returned:", of(name, "openMs"))}; main thread CPU ${line("", of(name, "openCpuMs")).trim()}`);
      console.log(`    ${line("first frame painted:", of(name, "firstFrameMs"))}; main thread CPU ${line("", of(name, "firstFrameCpuMs")).trim()}`);
    }
  } finally {
    await shell.stop();
    daemon?.kill("SIGKILL");
  }
}

export async function benchShellMenu(options: { samples?: number; shells?: ShellKind[]; zipDir?: string } = {}): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("\nshell menu open: skipped (the shells run in namespaces of their own: needs root)");
    return;
  }
  for (const target of TARGETS) {
    if (options.shells && !options.shells.includes(target.shell)) continue;
    await benchShell(target, options.samples ?? DEFAULT_SAMPLES, resolve(options.zipDir ?? join(ROOT, "dist", "extension")));
  }
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({ options: { samples: { type: "string" }, shell: { type: "string", multiple: true }, zips: { type: "string" } } });
  await benchShellMenu({ samples: values.samples ? Number(values.samples) : undefined, shells: values.shell as ShellKind[] | undefined, zipDir: values.zips });
  // The first line of /proc/loadavg once more, for the record.
  console.log(`load average at the end: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
}
