// `selfheal apps`: the installed applications, one a line as ID<TAB>NAME, read from the
// command's own XDG data dirs (no daemon needed); --all adds NoDisplay ones; --json for scripts;
// and bash completes watch-app's ids from it.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { DAEMON_JS, DAEMON_NODE } from "../helpers/command.js";
import { makeTempDir, run } from "../helpers/bus.js";

const SCRIPT = new URL("../../completions/selfheal.bash", import.meta.url).pathname;
const root = makeTempDir("apps-cli");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const share = join(root, "share");
const home = join(root, "home");
mkdirSync(join(share, "applications", "kde"), { recursive: true });
mkdirSync(join(home, "applications"), { recursive: true });
writeFileSync(join(share, "applications", "org.example.Editor.desktop"), "[Desktop Entry]\nType=Application\nName=Editor\nName[de]=Bearbeiter\nIcon=ed\nExec=ed %F\n");
writeFileSync(join(share, "applications", "kde", "viewer.desktop"), "[Desktop Entry]\nType=Application\nName=Viewer\nExec=viewer\n");
writeFileSync(join(share, "applications", "org.example.Helper.desktop"), "[Desktop Entry]\nType=Application\nName=Helper\nExec=helper\nNoDisplay=true\n");
writeFileSync(join(share, "applications", "org.example.Gone.desktop"), "[Desktop Entry]\nType=Application\nName=Gone\nExec=gone\nTryExec=gone-is-not-installed\n");
// The user's own copy hides the system's one (Hidden=true is the spec's "deleted").
writeFileSync(join(home, "applications", "org.example.Deleted.desktop"), "[Desktop Entry]\nType=Application\nName=Deleted\nExec=x\nHidden=true\n");
writeFileSync(join(share, "applications", "org.example.Deleted.desktop"), "[Desktop Entry]\nType=Application\nName=Deleted\nExec=x\n");
const env = { PATH: process.env.PATH, HOME: root, XDG_DATA_HOME: home, XDG_DATA_DIRS: share, LANG: "de_DE.UTF-8" };

function apps(...args: string[]) {
  return run(DAEMON_NODE, [DAEMON_JS, "apps", ...args], env);
}

describe("selfheal apps", () => {
  it("lists the apps menus show, as ID<TAB>NAME in the user's language, without a daemon", async () => {
    expect(await apps()).toEqual({ code: 0, stderr: "", stdout: "kde-viewer\tViewer\norg.example.Editor\tBearbeiter\n" });
  });

  it("adds the NoDisplay ones with --all, and gives ids, names and icons with --json", async () => {
    expect((await apps("--all")).stdout).toBe("kde-viewer\tViewer\norg.example.Editor\tBearbeiter\norg.example.Helper\tHelper\n");
    expect(JSON.parse((await apps("--json")).stdout)).toEqual([
      { id: "kde-viewer.desktop", name: "Viewer", icon: "", no_display: false },
      { id: "org.example.Editor.desktop", name: "Bearbeiter", icon: "ed", no_display: false },
    ]);
  });

  it("refuses an option it does not take", async () => {
    const result = await apps("--follow");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option --follow");
  });

  it("is in --help, and watch-app's page tells how to use it", async () => {
    const help = await run(DAEMON_NODE, [DAEMON_JS, "--help"], env);
    expect(help.stdout).toContain("  watch-app ID [--name NAME]");
    expect(help.stdout).toContain("  apps [--all]");
    expect((await run(DAEMON_NODE, [DAEMON_JS, "help", "watch-app"], env)).stdout).toContain("Usage: selfheal watch-app ID [--name NAME] [--json]");
  });

  it("gives bash completion watch-app's ids and the new commands", () => {
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "selfheal"), `#!/bin/sh\nexec "${DAEMON_NODE}" "${DAEMON_JS}" "$@"\n`);
    chmodSync(join(bin, "selfheal"), 0o755);
    const complete = (...words: string[]): string[] => {
      const script = `source "${SCRIPT}"; COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _selfheal; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...env, PATH: `${bin}:${process.env.PATH ?? ""}` } });
      expect(result.stderr).toBe("");
      return result.stdout.split("\n").filter((line) => line !== "");
    };
    expect(complete("selfheal", "watch-app", "org.")).toEqual(["org.example.Editor", "org.example.Helper"]);
    expect(complete("selfheal", "wa")).toEqual(["watch-app"]);
    expect(complete("selfheal", "ap")).toEqual(["apps"]);
    expect(complete("selfheal", "apps", "--")).toEqual(["--all", "--json", "--help"]);
  });
});

describe("selfheal policy get of an app policy", () => {
  it("writes the app's name as a comment, not as keys config.toml does not have", async () => {
    const { policyToml } = await import("../../daemon/cli/format.js");
    const text = policyToml("editor", { app: "org.gnome.TextEditor.desktop", command: ["gnome-text-editor"], match: "gnome-text-editor", app_name: "Text Editor", app_icon: "org.gnome.TextEditor", origin: "D-Bus", overridden: ["app"], unset: [], shadowed: {} });
    expect(text).not.toContain("app_name");
    expect(text).not.toContain("app_icon");
    expect(text).toContain("# the app: Text Editor (icon org.gnome.TextEditor)\n");
    expect(text).toContain('app = "org.gnome.TextEditor.desktop"');
  });
});
