// GNOME 42–44 stand-in for resource:///org/gnome/shell/extensions/extension.js, which only
// exists from GNOME 45 on. The legacy build points the seam's import of that module here.
import type Gio from "gi://Gio";
import type { Extension as ModernExtension } from "resource:///org/gnome/shell/extensions/extension.js";
import type { LegacyMetadata } from "./common.js";
import { LegacyBase, legacyImports } from "./common.js";

// What init(meta) receives from the GNOME 42–44 extension system.
interface LegacyMeta {
  uuid: string;
  path: string;
  dir: Gio.File;
  metadata: LegacyMetadata;
}

// The part of GNOME 45's Extension that selfheal uses, over imports.misc.extensionUtils.
export class Extension extends LegacyBase {
  readonly uuid: string;
  readonly path: string;
  readonly dir: Gio.File;
  readonly metadata: LegacyMetadata;

  constructor(meta: LegacyMeta) {
    // init() is where GNOME 42–44 expect translations to be bound: the base class binds them.
    super(meta.metadata);
    this.uuid = meta.uuid;
    this.path = meta.path;
    this.dir = meta.dir;
    this.metadata = meta.metadata;
  }

  openPreferences(): void {
    legacyImports.misc.extensionUtils.openPrefs();
  }
}

// The stand-in must offer what the code uses of the real class.
type UsedSurface = Pick<ModernExtension, "uuid" | "path" | "getSettings" | "openPreferences" | "gettext" | "ngettext">;
const _fits: Pick<Extension, keyof UsedSurface> extends UsedSurface ? true : never = true;
void _fits;
