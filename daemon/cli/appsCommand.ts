// `selfheal apps [--all] [--json]`: the installed applications `app` (and
// `selfheal watch-app`) can name, one a line as ID<TAB>NAME, for people and for
// shell completion. Read from this command's own XDG data dirs, as the daemon
// reads its own: both are the session's.
import { bareAppId, listApps } from "../apps/catalog.js";
import { json } from "./format.js";

export interface AppsOptions {
  /** Also the apps menus leave out (NoDisplay=true). */
  all: boolean;
  json: boolean;
}

// List the apps; returns the exit status.
export function runAppsCommand(options: AppsOptions, env: NodeJS.ProcessEnv, write: (text: string) => void = (text) => void process.stdout.write(text)): number {
  const apps = listApps(env, { all: options.all });
  if (options.json) {
    write(`${json(apps.map((app) => ({ id: app.id, name: app.name, icon: app.icon, no_display: app.noDisplay })))}\n`);
    return 0;
  }
  // The id as watch-app takes it (without .desktop), a tab, the name: `cut -f1` gives the ids.
  write(apps.map((app) => `${bareAppId(app.id)}\t${app.name}\n`).join(""));
  return 0;
}

