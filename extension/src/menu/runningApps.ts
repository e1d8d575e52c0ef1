// The user's running applications as GNOME knows them (the shell's app system: what the dash and
// the overview show as running), with their icons, for "Watch an app…". A window without a
// desktop file (window-backed) cannot be named by a policy and is left out.
import { Gio, Shell } from "../gi/ext.js";
import type { RunningApp } from "../model/watchApp.js";

export interface RunningAppWithIcon extends RunningApp {
  gicon: Gio.Icon | null;
}

// The running apps, each with its desktop-file id, name and icon.
export function runningApps(): RunningAppWithIcon[] {
  return Shell.AppSystem.get_default()
    .get_running()
    .filter((app) => !app.is_window_backed())
    .map((app) => ({ id: app.get_id(), name: app.get_name(), gicon: app.get_icon() }));
}

// An icon from a record's app_icon: a theme icon name or an absolute path; null for none.
export function iconFromString(icon: string): Gio.Icon | null {
  if (icon === "") return null;
  try {
    return Gio.Icon.new_for_string(icon);
  } catch {
    return null;
  }
}
