// GNOME 42–44 stand-in for resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js, which
// only exists from GNOME 45 on. The legacy build points the seam's import of that module here.
import type Gio from "gi://Gio";
import type { ExtensionPreferences as ModernPreferences } from "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js";

interface LegacyExtension {
  uuid: string;
  path: string;
  dir: Gio.File;
}

interface LegacyExtensionUtils {
  getSettings(schema?: string): Gio.Settings;
  initTranslations(domain?: string): void;
  getCurrentExtension(): LegacyExtension | null;
}

interface GettextDomain {
  gettext(str: string): string;
  ngettext(str: string, strPlural: string, n: number): string;
  pgettext(context: string, str: string): string;
}

interface LegacyImports {
  misc: { extensionUtils: LegacyExtensionUtils };
  gettext: { domain(name: string): GettextDomain };
}

const legacyImports = (globalThis as unknown as { imports: LegacyImports }).imports;

// The part of GNOME 45's ExtensionPreferences that selfheal uses. GNOME 42–44 call the prefs
// module's init(metadata); the preferences service has already set the current extension.
export class ExtensionPreferences {
  readonly uuid: string;
  readonly path: string;
  readonly dir: Gio.File;
  readonly metadata: Record<string, unknown>;
  readonly #domain: GettextDomain;

  constructor(metadata: Record<string, unknown> & { uuid: string; "gettext-domain"?: string }) {
    const utils = legacyImports.misc.extensionUtils;
    const current = utils.getCurrentExtension();
    if (!current) throw new Error(`Preferences of ${metadata.uuid}: the preferences service named no current extension`);
    this.uuid = metadata.uuid;
    this.path = current.path;
    this.dir = current.dir;
    this.metadata = metadata;
    const domain = metadata["gettext-domain"] ?? metadata.uuid;
    utils.initTranslations(domain);
    this.#domain = legacyImports.gettext.domain(domain);
  }

  getSettings(schema?: string): Gio.Settings {
    return legacyImports.misc.extensionUtils.getSettings(schema);
  }

  gettext(str: string): string {
    return this.#domain.gettext(str);
  }

  ngettext(str: string, strPlural: string, n: number): string {
    return this.#domain.ngettext(str, strPlural, n);
  }
}

type UsedSurface = Pick<ModernPreferences, "uuid" | "path" | "getSettings" | "gettext" | "ngettext">;
const _fits: Pick<ExtensionPreferences, keyof UsedSurface> extends UsedSurface ? true : never = true;
void _fits;
