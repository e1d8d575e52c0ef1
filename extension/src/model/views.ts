// The menu's four views and their tab labels, with counts from the daemon's properties.

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import type { ManagerStatus } from "./records.js";

export const VIEW_IDS = ["processes", "anomalies", "zombies", "cooldowns"] as const;
export type ViewId = (typeof VIEW_IDS)[number];

export function isViewId(value: string): value is ViewId {
  return (VIEW_IDS as readonly string[]).includes(value);
}

export interface ViewTab {
  id: ViewId;
  label: string;
  count: number;
}

function tabLabel(title: string, count: number, t: Translator): string {
  return count > 0 ? interpolate(t.gettext("{title} ({n})"), { title, n: count }) : title;
}

export function viewTabs(status: ManagerStatus, t: Translator): ViewTab[] {
  const tabs: Array<[ViewId, string, number]> = [
    ["processes", t.gettext("Processes"), status.watchedCount],
    ["anomalies", t.gettext("Anomalies"), status.anomalyCount],
    ["zombies", t.gettext("Zombies"), status.zombieCount],
    ["cooldowns", t.gettext("Cooldown"), status.cooldownCount],
  ];
  return tabs.map(([id, title, count]) => ({ id, label: tabLabel(title, count, t), count }));
}

// What an empty view says, so that it helps rather than looks broken.
export function emptyText(view: ViewId, t: Translator): string {
  switch (view) {
    case "processes":
      return t.gettext("No programs are watched yet. Add one in the preferences or in config.toml.");
    case "anomalies":
      return t.gettext("No anomalies: no memory leak, fork bomb or CPU spike seen.");
    case "zombies":
      return t.gettext("No zombie processes. Nothing to clean up.");
    case "cooldowns":
      return t.gettext("No program is held back: none is in a restart loop.");
  }
}
