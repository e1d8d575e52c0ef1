// "Watch an app…" in the Processes view: which of the running applications can still be watched,
// and the policy that watches one (SetPolicy with `app`, named as `selfheal watch-app` names it).
// No GNOME imports: the view hands in what the shell's app system says.

import type { ProcessRecord } from "./records.js";

/** One running application as the shell knows it. */
export interface RunningApp {
  /** The desktop-file id, "org.gnome.TextEditor.desktop". */
  id: string;
  name: string;
}

const DESKTOP_SUFFIX = ".desktop";
/** The longest policy name the daemon accepts. */
const MAX_NAME_LENGTH = 64;

// org.gnome.TextEditor.desktop → org.gnome.TextEditor: the id without .desktop, with characters a
// policy name cannot hold made "-" (the daemon's `selfheal watch-app` derives the same name).
export function policyNameForApp(id: string): string {
  const bare = id.endsWith(DESKTOP_SUFFIX) ? id.slice(0, -DESKTOP_SUFFIX.length) : id;
  const name = bare.replace(/[^A-Za-z0-9._@+-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, MAX_NAME_LENGTH);
  return name === "" ? "app" : name;
}

// The running apps no policy watches yet, by name; apps without a desktop file cannot be watched.
export function unwatchedApps(running: readonly RunningApp[], records: readonly ProcessRecord[]): RunningApp[] {
  const watched = new Set(records.map((record) => record.appId ?? "").filter((id) => id !== ""));
  const seen = new Set<string>();
  return running
    .filter((app) => app.id.endsWith(DESKTOP_SUFFIX) && !watched.has(app.id) && !seen.has(app.id) && seen.add(app.id))
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

// A name for the app's policy that no policy has yet: the derived one, else with -2, -3, … after it
// (SetPolicy on a taken name would change that policy instead of adding one).
export function freePolicyName(id: string, taken: ReadonlySet<string>): string {
  const base = policyNameForApp(id);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const name = `${base.slice(0, MAX_NAME_LENGTH - suffix.length)}${suffix}`;
    if (!taken.has(name)) return name;
  }
}
