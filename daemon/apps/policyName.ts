// The policy name `selfheal watch-app` (and the panel menu's "Watch an app…") give an app: its
// desktop-file id without .desktop, made a valid policy name (org.gnome.TextEditor stays as it is).
import { bareAppId } from "./catalog.js";

/** The longest policy name (NAME_PATTERN's 64 characters). */
const MAX_NAME_LENGTH = 64;

// org.gnome.TextEditor.desktop → org.gnome.TextEditor; characters a name cannot hold become "-".
export function policyNameForApp(id: string): string {
  const name = bareAppId(id).replace(/[^A-Za-z0-9._@+-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, MAX_NAME_LENGTH);
  return name === "" ? "app" : name;
}
