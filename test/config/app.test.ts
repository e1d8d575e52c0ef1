// The `app` key of a policy: a desktop-file id resolved from the XDG data dirs into the command,
// match, name and icon; explicit command and match win; an unknown, deleted or Flatpak app is a
// validation error naming the file, line and key (config.toml) or the key (SetPolicy).
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { parseConfig, policyToRaw, validatePolicyObject } from "../../daemon/config/load.js";
import { PolicyStore } from "../../daemon/config/policyStore.js";
import { problemsOf } from "../helpers/config.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-app-config-"));
const saved = { XDG_DATA_HOME: process.env.XDG_DATA_HOME, XDG_DATA_DIRS: process.env.XDG_DATA_DIRS, PATH: process.env.PATH, LANG: process.env.LANG, LC_ALL: process.env.LC_ALL };

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

const apps = join(root, "share", "applications");

beforeAll(() => {
  // The daemon reads the data dirs from its environment: this file's process is that environment.
  process.env.XDG_DATA_HOME = join(root, "home-share");
  process.env.XDG_DATA_DIRS = join(root, "share");
  process.env.PATH = `${join(root, "bin")}:/usr/bin:/bin`;
  process.env.LANG = "C.UTF-8";
  delete process.env.LC_ALL;
  write(join(root, "bin", "editor"), "#!/bin/sh\n");
  chmodSync(join(root, "bin", "editor"), 0o755);
  write(join(apps, "org.example.Editor.desktop"), "[Desktop Entry]\nType=Application\nName=Editor\nIcon=accessories-text-editor\nExec=editor --new-window %U\nTryExec=editor\n");
  write(join(apps, "org.example.Flat.desktop"), "[Desktop Entry]\nType=Application\nName=Flat\nExec=/usr/bin/flatpak run --command=flat org.example.Flat @@u %U @@\nX-Flatpak=org.example.Flat\n");
  write(join(apps, "org.example.Gone.desktop"), "[Desktop Entry]\nType=Application\nName=Gone\nExec=gone\nTryExec=gone\n");
});

afterAll(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(root, { recursive: true, force: true });
});

describe("the app key", () => {
  it("gives the policy the app's command, match, name and icon", () => {
    const policy = parseConfig('[process.editor]\napp = "org.example.Editor"\n', "config.toml").policies.get("editor")!;
    expect(policy).toMatchObject({ command: ["editor", "--new-window"], match: "editor", app: { id: "org.example.Editor.desktop", name: "Editor", icon: "accessories-text-editor" } });
  });

  it("lets an explicit command and match override what the app gives", () => {
    const policies = parseConfig(
      ['[process.a]', 'app = "org.example.Editor.desktop"', 'command = ["/opt/editor/bin/editor", "--safe"]', '[process.b]', 'app = "org.example.Editor"', 'match = "/editor --new/"'].join("\n"),
      "config.toml",
    ).policies;
    // An explicit command: the match is its program's, not the app's.
    expect(policies.get("a")).toMatchObject({ command: ["/opt/editor/bin/editor", "--safe"], match: "editor", app: { name: "Editor" } });
    expect(policies.get("b")).toMatchObject({ command: ["editor", "--new-window"], match: "/editor --new/" });
  });

  it("refuses an unknown app naming the file, line and key", () => {
    const problems = problemsOf('[settings]\ninterval = 1\n\n[process.editor]\napp = "org.example.Nothing"\n');
    expect(problems).toHaveLength(1);
    const [line, key, message] = problems[0]!;
    expect([line, key]).toEqual([5, "process.editor.app"]);
    expect(message).toContain('no application "org.example.Nothing.desktop" is installed');
    expect(message).toContain(apps);
  });

  it("refuses an app whose TryExec program is missing", () => {
    expect(problemsOf('[process.gone]\napp = "org.example.Gone"\n')[0]).toEqual([2, "process.gone.app", expect.stringContaining("names TryExec=gone, and no such executable is in PATH")]);
  });

  it("refuses a Flatpak app unless the policy gives both command and match", () => {
    const [line, key, message] = problemsOf('[process.flat]\napp = "org.example.Flat"\n')[0]!;
    expect([line, key]).toEqual([2, "process.flat.app"]);
    expect(message).toContain("is a Flatpak app");
    expect(message).toContain("give the policy both command and match");
    expect(problemsOf('[process.flat]\napp = "org.example.Flat"\ncommand = ["flatpak", "run", "org.example.Flat"]\n')[0]?.[1]).toBe("process.flat.app");
    const policy = parseConfig('[process.flat]\napp = "org.example.Flat"\ncommand = ["flatpak", "run", "org.example.Flat"]\nmatch = "flat"\n', "config.toml").policies.get("flat");
    expect(policy).toMatchObject({ command: ["flatpak", "run", "org.example.Flat"], match: "flat", app: { name: "Flat" } });
  });

  it("refuses an unknown app given over D-Bus, naming the key", () => {
    expect(() => validatePolicyObject("x", { app: "org.example.Nothing" }, "SetPolicy")).toThrow(/^SetPolicy: process\.x\.app: no application "org\.example\.Nothing\.desktop" is installed/);
    expect(() => validatePolicyObject("x", { app: "" }, "SetPolicy")).toThrow("process.x.app");
  });

  it("gives the app back as its id beside the command and match it resolved to, and reads that back the same", () => {
    const policy = validatePolicyObject("editor", { app: "org.example.Editor" }, "SetPolicy");
    const raw = policyToRaw(policy);
    expect(raw).toMatchObject({ app: "org.example.Editor.desktop", command: ["editor", "--new-window"], match: "editor" });
    expect(validatePolicyObject("editor", raw, "SetPolicy")).toEqual(policy);
  });
});

describe("saving the policies set over D-Bus", () => {
  it("does not check again the overrides file it wrote itself: an app uninstalled since is no reason to keep a corrupt copy, and its override stays", async () => {
    const dir = join(root, "store");
    mkdirSync(dir, { recursive: true });
    const paths = { config: join(dir, "config.toml"), overrides: join(dir, "overrides.json"), lastGood: join(dir, "last-good.toml") };
    const desktop = join(apps, "org.example.Passing.desktop");
    write(desktop, "[Desktop Entry]\nType=Application\nName=Passing\nExec=editor --passing\n");
    const store = new PolicyStore(paths);
    await store.setPolicy("passing", { set: { app: "org.example.Passing" }, unset: [] });
    rmSync(desktop);
    // A save re-checked the whole file to decide on a copy: the uninstalled app's override failed that
    // check, and every later save kept a "corrupt" copy of a file the daemon had written itself.
    await store.setPolicy("other", { set: { command: ["editor", "--other"] }, unset: [] });
    expect(readdirSync(dir).filter((name) => name.includes(".corrupt-"))).toEqual([]);
    expect(Object.keys(JSON.parse(readFileSync(paths.overrides, "utf8")).policies)).toEqual(["other", "passing"]);
  });

  it("does not validate again the policies an edit leaves as they were: another policy's edit does not re-read an app's desktop file", async () => {
    const dir = join(root, "store-unchanged");
    mkdirSync(dir, { recursive: true });
    const paths = { config: join(dir, "config.toml"), overrides: join(dir, "overrides.json"), lastGood: join(dir, "last-good.toml") };
    const desktop = join(apps, "org.example.Steady.desktop");
    write(desktop, "[Desktop Entry]\nType=Application\nName=Steady\nExec=editor --steady\n");
    const store = new PolicyStore(paths);
    await store.setPolicy("steady", { set: { app: "org.example.Steady" }, unset: [] });
    // A file changed afterwards is read at the next load of this policy, not at another's edit.
    write(desktop, "[Desktop Entry]\nType=Application\nName=Renamed\nExec=editor --renamed\n");
    await store.setPolicy("other", { set: { command: ["editor", "--other"] }, unset: [] });
    expect(store.config.policies.get("steady")).toMatchObject({ command: ["editor", "--steady"], app: { name: "Steady" } });
    await store.setPolicy("steady", { set: { app: "org.example.Steady", autostart: true }, unset: [] });
    expect(store.config.policies.get("steady")).toMatchObject({ command: ["editor", "--renamed"], app: { name: "Renamed" } });
    // config.toml changed: every policy loads again.
    write(desktop, "[Desktop Entry]\nType=Application\nName=Again\nExec=editor --again\n");
    writeFileSync(paths.config, "# edited\n");
    expect(store.reload().ok).toBe(true);
    expect(store.config.policies.get("steady")).toMatchObject({ app: { name: "Again" } });
  });

  it("still keeps a copy of a file changed by hand into one it cannot read whole, before replacing it", async () => {
    const dir = join(root, "store-hand");
    mkdirSync(dir, { recursive: true });
    const paths = { config: join(dir, "config.toml"), overrides: join(dir, "overrides.json"), lastGood: join(dir, "last-good.toml") };
    const store = new PolicyStore(paths);
    await store.setPolicy("editor", { set: { app: "org.example.Editor" }, unset: [] });
    const byHand = '{ "version": 2, "policies": { "editor": ';
    writeFileSync(paths.overrides, byHand);
    await store.setPolicy("other", { set: { command: ["editor", "--other"] }, unset: [] });
    const kept = readdirSync(dir).filter((name) => name.startsWith("overrides.json.corrupt-"));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0]!), "utf8")).toBe(byHand);
  });
});
