// What a desktop notification lets the user do: the buttons each alert kind
// carries, where a click on the notification itself leads (a view of the
// extension's menu and a row in it), and how a chosen action is carried out
// through a small port the daemon implements.
import type { Alert, AlertKind } from "./alerts.js";
import type { Digest } from "./throttle.js";

/** The key org.freedesktop.Notifications sends when the notification itself is clicked. */
export const DEFAULT_ACTION = "default";

/** The menu's views a notification can lead to (the extension's view ids). */
export type ShowView = "processes" | "anomalies" | "zombies" | "cooldowns";

/** A button of a notification: the key sent back in ActionInvoked, and its label. */
export interface NotificationAction {
  id: string;
  label: string;
}

/** Where a notification leads, and what it offers. */
export interface NotificationIntent {
  view: ShowView;
  /** The row to show: a policy's name, or "" for the view as a whole. */
  name: string;
  /** The buttons, in order; the click on the notification (DEFAULT_ACTION) is always offered. */
  actions: NotificationAction[];
}

/** What the daemon does for a notification's actions (implemented by the Daemon). */
export interface NotificationResponder {
  /** Ends the cooldown and starts the program (ResetCooldown + StartProcess). */
  restartNow(name: string): Promise<void>;
  /** Removes the policy: the program is no longer watched (RemovePolicy). */
  stopWatching(name: string): Promise<void>;
  /** Asks the zombies' parents to reap them (CleanupZombies). */
  cleanupZombies(): Promise<void>;
  /** Asks the desktop to show a view and row (the ShowRequested signal). */
  show(view: ShowView, name: string): void;
}

export const ACTIONS = {
  restartNow: { id: "restart-now", label: "Restart now" },
  stopWatching: { id: "stop-watching", label: "Stop watching" },
  show: { id: "show", label: "Show" },
  cleanUp: { id: "clean-up", label: "Clean up" },
} as const satisfies Record<string, NotificationAction>;

// The view each alert kind is about.
const VIEW_OF: Record<AlertKind, ShowView> = {
  crash: "processes",
  "restart-loop": "cooldowns",
  "start-failure": "processes",
  "cpu-limit": "processes",
  "memory-limit": "processes",
  "memory-leak": "anomalies",
  "fork-bomb": "anomalies",
  "cpu-spike": "anomalies",
  zombies: "zombies",
};

// The buttons each kind carries: where an action makes sense, and no more.
const ACTIONS_OF: Record<AlertKind, readonly NotificationAction[]> = {
  crash: [],
  "restart-loop": [ACTIONS.restartNow, ACTIONS.stopWatching],
  "start-failure": [],
  "cpu-limit": [ACTIONS.show],
  "memory-limit": [ACTIONS.show],
  "memory-leak": [ACTIONS.show],
  "fork-bomb": [ACTIONS.show],
  "cpu-spike": [ACTIONS.show],
  zombies: [ACTIONS.cleanUp],
};

// Where an alert's notification leads and what it offers.
export function intentOf(alert: Pick<Alert, "kind" | "name">): NotificationIntent {
  return { view: VIEW_OF[alert.kind], name: alert.kind === "zombies" ? "" : alert.name, actions: [...ACTIONS_OF[alert.kind]] };
}

// A digest (what a rate limit held back) only leads to its view: its actions may be stale.
export function digestIntentOf(digest: Digest<Alert>): NotificationIntent {
  const first = digest.items[0];
  if (first === undefined) return { view: "processes", name: "", actions: [] };
  return { ...intentOf(first), actions: [] };
}

// The actions array of org.freedesktop.Notifications' Notify: key, label, key, label...;
// the default action first, so that a click on the notification is reported.
export function notifyActions(intent: NotificationIntent): string[] {
  return [DEFAULT_ACTION, "", ...intent.actions.flatMap((action) => [action.id, action.label])];
}

// Carry out an action the user chose on a notification; false for a key it did not offer.
export async function respond(responder: NotificationResponder, intent: NotificationIntent, key: string): Promise<boolean> {
  if (key !== DEFAULT_ACTION && !intent.actions.some((action) => action.id === key)) return false;
  if (key === DEFAULT_ACTION || key === ACTIONS.show.id) responder.show(intent.view, intent.name);
  else if (key === ACTIONS.restartNow.id) await responder.restartNow(intent.name);
  else if (key === ACTIONS.stopWatching.id) await responder.stopWatching(intent.name);
  else if (key === ACTIONS.cleanUp.id) await responder.cleanupZombies();
  else return false;
  return true;
}
