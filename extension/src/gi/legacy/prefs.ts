// GNOME 42–44 stand-in for resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js, which
// only exists from GNOME 45 on. The legacy build points the seam's import of that module here.
import type Gio from "gi://Gio";
import type { ExtensionPreferences as ModernPreferences } from "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js";
import type { LegacyExtension, LegacyMetadata } from "./common.js";
import { LegacyBase, legacyImports } from "./common.js";

// The preferences service's current extension, which must be set before init(metadata).
function currentExtension(metadata: LegacyMetadata): LegacyExtension {
  const current = legacyImports.misc.extensionUtils.getCurrentExtension();
  if (!current) throw new Error(`Preferences of ${metadata.uuid}: the preferences service named no current extension`);
  return current;
}

// The part of GNOME 45's ExtensionPreferences that selfheal uses. GNOME 42–44 call the prefs
// module's init(metadata); the preferences service has already set the current extension.
export class ExtensionPreferences extends LegacyBase {
  readonly uuid: string;
  readonly path: string;
  readonly dir: Gio.File;
  readonly metadata: Record<string, unknown>;

  constructor(metadata: LegacyMetadata) {
    const current = currentExtension(metadata);
    super(metadata);
    this.uuid = metadata.uuid;
    this.path = current.path;
    this.dir = current.dir;
    this.metadata = metadata;
  }
}

type UsedSurface = Pick<ModernPreferences, "uuid" | "path" | "getSettings" | "gettext" | "ngettext">;
const _fits: Pick<ExtensionPreferences, keyof UsedSurface> extends UsedSurface ? true : never = true;
void _fits;
