// Resolving desktop-file ids from the XDG data dirs: real desktop files of Debian packages
// (gtk-3-examples and gnome-shell, installed by scripts/test-deps.sh), and made-up ones for the
// spec's rules (precedence, subfolder ids, Hidden, NoDisplay, TryExec, Flatpak).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { afterAll, describe, expect, it } from "vitest";

import { AppError, desktopFiles, listApps, normaliseAppId, resolveApp, resolvingAppsOnce } from "../../daemon/apps/catalog.js";
import { applicationDirs, dataDirs } from "../../daemon/apps/dataDirs.js";

const root = mkdtempSync(join(tmpdir(), "selfheal-apps-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const home = join(root, "home");
const userData = join(home, ".local", "share");
const systemData = join(root, "system");
const bin = join(root, "bin");
/** The environment of a session whose data dirs are the test's, PATH with the test's bin first. */
const env = { HOME: home, XDG_DATA_DIRS: systemData, PATH: `${bin}:/usr/bin:/bin`, LANG: "de_DE.UTF-8" };
/** The same session seeing the machine's real /usr/share. */
const realEnv = { HOME: home, XDG_DATA_DIRS: "/usr/share", PATH: "/usr/bin:/bin", LANG: "C.UTF-8" };

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function desktop(lines: string[]): string {
  return ["[Desktop Entry]", "Type=Application", ...lines, ""].join("\n");
}

// An executable the test provides on its PATH.
function program(name: string): void {
  write(join(bin, name), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, name), 0o755);
}

function appError(id: string, inEnv: Record<string, string> = env): string {
  try {
    resolveApp(id, inEnv);
  } catch (error) {
    if (error instanceof AppError) return error.message;
    throw error;
  }
  throw new Error(`expected ${id} to be refused`);
}

program("editor");
write(join(systemData, "applications", "org.example.Editor.desktop"), desktop(["Name=Editor", "Name[de]=Bearbeiter", "Icon=accessories-text-editor", "Exec=editor --new-window %U", "TryExec=editor"]));
write(join(userData, "applications", "org.example.Editor.desktop"), desktop(["Name=My Editor", "Icon=/opt/editor.png", "Exec=editor --mine %F"]));
write(join(systemData, "applications", "kde", "viewer.desktop"), desktop(["Name=Viewer", "Exec=editor --view"]));
write(join(systemData, "applications", "org.example.Deleted.desktop"), desktop(["Name=Deleted", "Exec=editor"]));
write(join(userData, "applications", "org.example.Deleted.desktop"), desktop(["Name=Deleted", "Exec=editor", "Hidden=true"]));
write(join(systemData, "applications", "org.example.Helper.desktop"), desktop(["Name=Helper", "Exec=editor --helper", "NoDisplay=true"]));
write(join(systemData, "applications", "org.example.Missing.desktop"), desktop(["Name=Missing", "Exec=not-installed-program", "TryExec=not-installed-program"]));
write(
  join(systemData, "applications", "org.example.Flat.desktop"),
  desktop(["Name=Flat", "Exec=/usr/bin/flatpak run --branch=stable --arch=x86_64 --command=flat org.example.Flat @@u %U @@", "X-Flatpak=org.example.Flat"]),
);
write(join(systemData, "applications", "org.example.Link.desktop"), ["[Desktop Entry]", "Type=Link", "Name=Link", "URL=https://example.org", ""].join("\n"));
write(join(systemData, "applications", "org.example.Script.desktop"), desktop(["Name=Script", "Exec=sh -c 'exec editor --from-shell'", "TryExec=editor"]));
write(join(systemData, "applications", "org.example.Python.desktop"), desktop(["Name=Py", "Exec=env LANG=C python3 /opt/py/tool.py %f", "Path=/opt/py"]));
write(join(systemData, "applications", "org.example.Dbus.desktop"), desktop(["Name=D-Bus only", "DBusActivatable=true"]));
write(join(systemData, "applications", "org.example.Broken.desktop"), "not a desktop file\n");

describe("data dirs", () => {
  it("searches $XDG_DATA_HOME, then each of $XDG_DATA_DIRS, then Flatpak's exports", () => {
    expect(dataDirs({ HOME: "/home/u", XDG_DATA_DIRS: "/a:/b/" })).toEqual(["/home/u/.local/share", "/a", "/b", "/home/u/.local/share/flatpak/exports/share", "/var/lib/flatpak/exports/share"]);
    expect(applicationDirs({ HOME: "/home/u", XDG_DATA_HOME: "/data" })).toEqual([
      "/data/applications",
      "/usr/local/share/applications",
      "/usr/share/applications",
      "/data/flatpak/exports/share/applications",
      "/var/lib/flatpak/exports/share/applications",
    ]);
    // Flatpak's exports listed already (its profile script adds them) are not searched twice; relative entries are ignored.
    expect(dataDirs({ HOME: "/h", XDG_DATA_DIRS: "/var/lib/flatpak/exports/share:rel:/usr/share" })).toEqual([
      "/h/.local/share",
      "/var/lib/flatpak/exports/share",
      "/usr/share",
      "/h/.local/share/flatpak/exports/share",
    ]);
  });
});

describe("resolveApp with real desktop files of Debian packages", () => {
  it("resolves gtk-3-examples' gtk3-demo: its command, match, name and icon", () => {
    const app = resolveApp("gtk3-demo", realEnv);
    expect(app).toMatchObject({ id: "gtk3-demo.desktop", file: "/usr/share/applications/gtk3-demo.desktop", name: "GTK+ Demo", icon: "gtk3-demo", command: ["gtk3-demo"], match: "gtk3-demo", refusal: null });
    // NoDisplay=true: it exists and resolves, but menus (and `selfheal apps` without --all) leave it out.
    expect(app.noDisplay).toBe(true);
  });

  it("resolves gnome-shell's evolution-calendar.desktop, an Exec line with arguments", () => {
    expect(resolveApp("evolution-calendar.desktop", realEnv)).toMatchObject({ command: ["evolution", "-c", "calendar"], match: "evolution", name: "Evolution Calendar", icon: "evolution" });
  });

  it("lists the machine's installed apps with --all, by id", () => {
    const ids = listApps(realEnv, { all: true }).map((app) => app.id);
    expect(ids).toContain("gtk3-demo.desktop");
    expect(ids).toContain("org.gnome.Shell.desktop");
  });
});

describe("resolveApp", () => {
  it("takes the id with or without .desktop", () => {
    expect(normaliseAppId("org.example.Editor")).toBe("org.example.Editor.desktop");
    expect(normaliseAppId("org.example.Editor.desktop")).toBe("org.example.Editor.desktop");
    expect(() => normaliseAppId("kde/viewer.desktop")).toThrow("kde-foo.desktop");
    expect(() => normaliseAppId("")).toThrow(AppError);
  });

  it("prefers the user's own desktop file over the system's", () => {
    expect(resolveApp("org.example.Editor", env)).toMatchObject({ name: "My Editor", icon: "/opt/editor.png", command: ["editor", "--mine"], match: "editor" });
    expect(resolveApp("org.example.Editor", { ...env, HOME: join(root, "nobody") })).toMatchObject({ name: "Bearbeiter", command: ["editor", "--new-window"] });
  });

  it("names a desktop file in a subfolder by its path with - for / (kde/viewer.desktop is kde-viewer.desktop)", () => {
    expect(desktopFiles(applicationDirs(env)).get("kde-viewer.desktop")).toBe(join(systemData, "applications", "kde", "viewer.desktop"));
    expect(resolveApp("kde-viewer", env)).toMatchObject({ id: "kde-viewer.desktop", command: ["editor", "--view"] });
  });

  it("takes Hidden=true as deleted: the user's hidden file hides the system's too", () => {
    expect(appError("org.example.Deleted")).toContain("is deleted");
    expect(appError("org.example.Deleted")).toContain("Hidden=true");
  });

  it("refuses an app whose TryExec program is not installed, naming it", () => {
    expect(appError("org.example.Missing")).toBe(
      `"org.example.Missing.desktop" is not installed: ${join(systemData, "applications", "org.example.Missing.desktop")} names TryExec=not-installed-program, and no such executable is in PATH`,
    );
  });

  it("resolves a NoDisplay app (installed, only not shown in menus)", () => {
    expect(resolveApp("org.example.Helper", env)).toMatchObject({ command: ["editor", "--helper"], noDisplay: true });
  });

  it("matches TryExec's program when Exec runs inline shell code, the script under an interpreter, and reads Path", () => {
    expect(resolveApp("org.example.Script", env)).toMatchObject({ command: ["sh", "-c", "exec editor --from-shell"], match: "editor" });
    expect(resolveApp("org.example.Python", env)).toMatchObject({ command: ["env", "LANG=C", "python3", "/opt/py/tool.py"], match: "tool.py", cwd: "/opt/py" });
  });

  it("gives a Flatpak app and an app without Exec a refusal instead of a command", () => {
    expect(resolveApp("org.example.Flat", env)).toMatchObject({ command: null, refusal: expect.stringContaining("is a Flatpak app") });
    expect(resolveApp("org.example.Dbus", env)).toMatchObject({ command: null, refusal: expect.stringContaining("has no Exec line (the app is started over D-Bus only)") });
  });

  it("refuses an unknown id naming where it looked, a link, and a broken file", () => {
    const unknown = appError("org.example.Nothing");
    expect(unknown).toContain('no application "org.example.Nothing.desktop" is installed');
    expect(unknown).toContain(join(home, ".local", "share", "applications"));
    expect(unknown).toContain(join(systemData, "applications"));
    expect(appError("org.example.Link")).toContain("a Type=Link entry, not an application");
    expect(appError("org.example.Broken")).toContain("org.example.Broken.desktop:1:");
  });

  it("lists apps as menus do: no deleted, hidden (NoDisplay) or broken ones, nor those whose TryExec is missing", () => {
    const shown = listApps(env).map((app) => app.id);
    expect(shown).toEqual(["kde-viewer.desktop", "org.example.Dbus.desktop", "org.example.Editor.desktop", "org.example.Flat.desktop", "org.example.Python.desktop", "org.example.Script.desktop"]);
    expect(listApps(env, { all: true }).map((app) => app.id)).toContain("org.example.Helper.desktop");
  });
});

describe("one look per edit", () => {
  it("looks each app up once within resolvingAppsOnce (an edit validates its policy three times): later looks give what the first found, and a look after it reads the file again", async () => {
    const file = join(systemData, "applications", "org.example.Once.desktop");
    write(file, desktop(["Name=First", "Exec=editor"]));
    await resolvingAppsOnce(async () => {
      expect(resolveApp("org.example.Once", env).name).toBe("First");
      write(file, desktop(["Name=Second", "Exec=editor"]));
      await Promise.resolve();
      expect(resolveApp("org.example.Once", env).name).toBe("First");
      // Another environment's data dirs are another look.
      expect(() => resolveApp("org.example.Once", realEnv)).toThrow(AppError);
    });
    expect(resolveApp("org.example.Once", env).name).toBe("Second");
  });
});
