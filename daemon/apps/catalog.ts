// The installed applications, by desktop-file id: where each desktop file is
// (the first data dir that has the id wins, so a user's own file overrides the
// system's), and what an id resolves to: the command to start, the program to
// match, and the name and icon the views show.
import type { Env } from "../config/paths.js";

import { accessSync, constants, lstatSync, readdirSync, statSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";

import { readFileCapped } from "../config/sizes.js";
import { isInterpreter, programName } from "../proc/interpreters.js";
import { applicationDirs } from "./dataDirs.js";
import { DesktopEntryError, messagesLocale, parseDesktopEntry, type DesktopEntry } from "./desktopEntry.js";
import { ExecLineError, expandExec } from "./execLine.js";

/** The suffix of every desktop-file id. */
export const DESKTOP_SUFFIX = ".desktop";
/** The largest desktop file read (real ones are a few KiB; translations make some 40 KiB). */
const MAX_DESKTOP_FILE_BYTES = 1024 * 1024;
/** How deep subfolders of an applications folder are searched (kde/foo.desktop is one level). */
const MAX_DEPTH = 4;

/** Why an id cannot be watched: not installed, deleted, not an application, or unreadable. */
export class AppError extends Error {
  override readonly name = "AppError";
}

/** An application as a policy uses it. */
export interface DesktopApp {
  /** The desktop-file id, with its .desktop suffix. */
  id: string;
  /** The desktop file it was read from. */
  file: string;
  /** The Name in the user's language. */
  name: string;
  /** The Icon key: a theme icon name or an absolute path; "" when it has none. */
  icon: string;
  /** The argv Exec gives with nothing to open; null when it cannot be used (see `refusal`). */
  command: string[] | null;
  /** The program to match: the one Exec runs (its script under an interpreter), or TryExec's. */
  match: string | null;
  /** The Path key: the folder to start in; null when it has none. */
  cwd: string | null;
  /** Why the app's own command cannot be used (a Flatpak app, no Exec); null when it can. */
  refusal: string | null;
  /** NoDisplay=true: installed, but not shown in menus (nor by `selfheal apps` without --all). */
  noDisplay: boolean;
}

// An id as the user may write it ("org.gnome.TextEditor" or with .desktop) with its suffix; throws AppError for one that cannot be an id.
export function normaliseAppId(input: string): string {
  const id = input.trim();
  if (id === "" || id === DESKTOP_SUFFIX) throw new AppError("an application id is a desktop file's name, such as org.gnome.TextEditor or org.gnome.TextEditor.desktop");
  if (id.includes("/") || id.includes("\0") || id.startsWith(".")) {
    throw new AppError(`${JSON.stringify(input)} is not a desktop-file id: an id has no "/" and does not start with "." (kde/foo.desktop has the id kde-foo.desktop)`);
  }
  return id.endsWith(DESKTOP_SUFFIX) ? id : `${id}${DESKTOP_SUFFIX}`;
}

// An id without its .desktop suffix, as people write it (org.gnome.TextEditor).
export function bareAppId(id: string): string {
  return id.endsWith(DESKTOP_SUFFIX) ? id.slice(0, -DESKTOP_SUFFIX.length) : id;
}

// Every desktop file of one applications folder by id: kde/foo.desktop is kde-foo.desktop.
function filesOf(dir: string, prefix: string, depth: number, into: Map<string, string>): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(path));
    if (isDir && depth < MAX_DEPTH) filesOf(path, `${prefix}${entry.name}-`, depth + 1, into);
    else if (!isDir && entry.name.endsWith(DESKTOP_SUFFIX)) {
      const id = `${prefix}${entry.name}`;
      if (!into.has(id)) into.set(id, path);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// Every desktop file by id; where several data dirs have an id, the first dir's file.
export function desktopFiles(dirs: readonly string[]): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of dirs) {
    const own = new Map<string, string>();
    filesOf(dir, "", 0, own);
    for (const [id, path] of own) if (!files.has(id)) files.set(id, path);
  }
  return files;
}

// The desktop file of one id, as desktopFiles(dirs).get(id) gives it, found by the paths the id can
// name (kde-foo.desktop: kde-foo.desktop, or foo.desktop in kde/) instead of by listing every
// folder: a few stats instead of a walk through every installed app, on each edit of a policy.
export function desktopFileOf(id: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const path = fileIn(dir, id, 0);
    if (path !== undefined) return path;
  }
  return undefined;
}

// `rest` of an id in one folder, in the listing's order: a subfolder's name sorts before every longer
// name it begins, so the subfolders named by a prefix of `rest` (shorter first), then the file itself.
function fileIn(dir: string, rest: string, depth: number): string | undefined {
  if (depth < MAX_DEPTH) {
    for (let dash = rest.indexOf("-"); dash !== -1; dash = rest.indexOf("-", dash + 1)) {
      const name = rest.slice(0, dash);
      // A listing never gives "." or ".." (nor an empty name).
      if (name === "" || name === "." || name === "..") continue;
      const sub = join(dir, name);
      if (!isDirectory(sub)) continue;
      const found = fileIn(sub, rest.slice(dash + 1), depth + 1);
      if (found !== undefined) return found;
    }
  }
  const path = join(dir, rest);
  // What the listing takes for a file: any entry but a folder (or a link to one); a broken link too.
  return exists(path) && !isDirectory(path) ? path : undefined;
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

// True when `program` is an executable file: an absolute path as it is, a name through $PATH.
export function isInstalled(program: string, env: Env): boolean {
  const candidates = isAbsolute(program) ? [program] : (env.PATH ?? "").split(":").filter((dir) => dir !== "").map((dir) => join(dir, program));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** What reading a desktop file gave: the entry, or why it is not one (a broken file is not an app). */
function readEntry(path: string): DesktopEntry {
  try {
    return parseDesktopEntry(readFileCapped(path, MAX_DESKTOP_FILE_BYTES), path);
  } catch (error) {
    if (error instanceof DesktopEntryError) throw new AppError(`${error.message}`);
    throw new AppError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

// True when the Exec line runs Flatpak (flatpak run …): the app then runs in a sandbox of its own.
function runsFlatpak(entry: DesktopEntry, argv: readonly string[] | null): boolean {
  if (entry.string("X-Flatpak") !== undefined) return true;
  return argv !== null && basename(argv[0] ?? "") === "flatpak" && argv.includes("run");
}

// The program a policy of the app matches: the one Exec runs, or TryExec's when Exec runs inline
// code (sh -c '…') or cannot be used.
function matchOf(argv: readonly string[] | null, tryExec: string | undefined): string | null {
  const program = argv === null ? null : programName(argv);
  const inline = program !== null && isInterpreter(program);
  if ((program === null || inline) && tryExec !== undefined && tryExec !== "") return basename(tryExec);
  return program;
}

// The app a desktop file describes; `id` is its id. Throws AppError when it is deleted (Hidden),
// not an application, or its TryExec program is not installed.
export function appFromFile(id: string, path: string, env: Env = process.env): DesktopApp {
  const entry = readEntry(path);
  if (entry.boolean("Hidden")) throw new AppError(`${JSON.stringify(id)} is deleted: ${path} says Hidden=true (the spec's "deleted"), so it is not installed`);
  const type = entry.string("Type");
  if (type !== "Application") throw new AppError(`${path} is ${type === undefined ? "an entry without a Type" : `a Type=${type} entry`}, not an application (Type=Application)`);
  const tryExec = entry.string("TryExec");
  if (tryExec !== undefined && tryExec !== "" && !isInstalled(tryExec, env)) {
    throw new AppError(`${JSON.stringify(id)} is not installed: ${path} names TryExec=${tryExec}, and no such executable is ${isAbsolute(tryExec) ? "there" : "in PATH"}`);
  }
  const name = entry.localeString("Name", messagesLocale(env)) ?? id.slice(0, -DESKTOP_SUFFIX.length);
  const icon = entry.localeString("Icon", messagesLocale(env)) ?? "";
  const exec = entry.string("Exec");
  let command: string[] | null = null;
  let refusal: string | null = null;
  if (exec === undefined || exec.trim() === "") {
    refusal = `${path} has no Exec line${entry.boolean("DBusActivatable") ? " (the app is started over D-Bus only)" : ""}, so selfheal cannot start it`;
  } else {
    try {
      command = expandExec(exec, { icon, name, location: path });
    } catch (error) {
      if (!(error instanceof ExecLineError)) throw error;
      refusal = `${path}: ${error.message}`;
    }
  }
  if (refusal === null && runsFlatpak(entry, command)) {
    refusal =
      `${JSON.stringify(id)} is a Flatpak app (${path} runs "flatpak run"): selfheal does not watch Flatpak apps, whose program runs ` +
      `inside Flatpak's sandbox under another process tree than the command started`;
    command = null;
  }
  const cwd = entry.string("Path");
  return {
    id,
    file: path,
    name,
    icon,
    command,
    match: matchOf(command, tryExec),
    cwd: cwd !== undefined && isAbsolute(cwd) ? cwd : null,
    refusal,
    noDisplay: entry.boolean("NoDisplay"),
  };
}

/** While edits run (resolvingAppsOnce), what each look found (an app or why not), by id and environment. */
let looksOfThisEdit: Map<string, DesktopApp | AppError> | null = null;
/** How many edits run; the looks are forgotten when the last one ends (edits that overlap share them). */
let editsUnderWay = 0;

// Runs `edit` with each app looked up at most once: a SetPolicy validates its policy, checks which
// keys change something and merges the policies, each a look for the desktop file and a read of
// it. One look also gives the edit one version of a desktop file that changes meanwhile.
export async function resolvingAppsOnce<T>(edit: () => Promise<T>): Promise<T> {
  if (editsUnderWay++ === 0) looksOfThisEdit = new Map();
  try {
    return await edit();
  } finally {
    if (--editsUnderWay === 0) looksOfThisEdit = null;
  }
}

// The app an id names, from the XDG data dirs of `env`. Throws AppError saying why it cannot be
// used: no such desktop file (naming where it looked), deleted, not an application, not installed.
export function resolveApp(input: string, env: Env = process.env): DesktopApp {
  if (looksOfThisEdit === null) return lookUpApp(input, env);
  const key = [input, ...applicationDirs(env), env.PATH ?? "", messagesLocale(env) ?? ""].join("\0");
  let found = looksOfThisEdit.get(key);
  if (found === undefined) {
    try {
      found = lookUpApp(input, env);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      found = error;
    }
    looksOfThisEdit.set(key, found);
  }
  if (found instanceof AppError) throw found;
  return found;
}

// One look: the id's desktop file found in the data dirs, and read.
function lookUpApp(input: string, env: Env): DesktopApp {
  const id = normaliseAppId(input);
  const dirs = applicationDirs(env);
  const path = desktopFileOf(id, dirs);
  if (path === undefined) {
    throw new AppError(`no application ${JSON.stringify(id)} is installed: no such desktop file in ${dirs.join(", ")} ("selfheal apps" lists the installed ones)`);
  }
  return appFromFile(id, path, env);
}

/** One installed application, for listings. */
export interface AppListing {
  id: string;
  name: string;
  icon: string;
  /** Hidden from menus (NoDisplay=true). */
  noDisplay: boolean;
}

// The installed applications, by id: those deleted (Hidden), not applications, or whose TryExec is
// missing are left out, as menus leave them out; NoDisplay ones only when `all`.
export function listApps(env: Env = process.env, options: { all?: boolean } = {}): AppListing[] {
  const apps: AppListing[] = [];
  for (const [id, path] of desktopFiles(applicationDirs(env))) {
    let app: DesktopApp;
    try {
      app = appFromFile(id, path, env);
    } catch (error) {
      if (error instanceof AppError) continue;
      throw error;
    }
    if (app.noDisplay && options.all !== true) continue;
    apps.push({ id: app.id, name: app.name, icon: app.icon, noDisplay: app.noDisplay });
  }
  return apps.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
