// Where installed applications' desktop files are, as the XDG Base Directory
// specification orders them: the user's own first, then the system's, then
// Flatpak's exports when the session did not add them to $XDG_DATA_DIRS.
import { isAbsolute, join } from "node:path";

import { dataHome, type Env } from "../config/paths.js";

/** $XDG_DATA_DIRS when it is unset or empty, as the specification says. */
export const DEFAULT_DATA_DIRS = ["/usr/local/share", "/usr/share"] as const;
/** Where Flatpak exports the desktop files of apps installed for every user. */
export const FLATPAK_SYSTEM_EXPORTS = "/var/lib/flatpak/exports/share";
/** The folder under a data dir that holds desktop files. */
const APPLICATIONS = "applications";

// The data dirs to search, most important first: $XDG_DATA_HOME, each of $XDG_DATA_DIRS (relative
// entries are ignored, as the spec says), then Flatpak's exports (the user's, the system's) unless listed.
export function dataDirs(env: Env = process.env): string[] {
  const home = dataHome(env);
  const listed = (env.XDG_DATA_DIRS ?? "").split(":").filter((dir) => isAbsolute(dir));
  const system = listed.length > 0 ? listed : [...DEFAULT_DATA_DIRS];
  const dirs = [home, ...system].map(withoutTrailingSlash);
  for (const flatpak of [join(home, "flatpak", "exports", "share"), FLATPAK_SYSTEM_EXPORTS]) if (!dirs.includes(flatpak)) dirs.push(flatpak);
  return [...new Set(dirs)];
}

// Each data dir's applications folder, most important first.
export function applicationDirs(env: Env = process.env): string[] {
  return dataDirs(env).map((dir) => join(dir, APPLICATIONS));
}

function withoutTrailingSlash(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}
