// GNOME 42–44 stand-in for resource:///org/gnome/shell/extensions/extension.js, which only
// exists from GNOME 45 on. The legacy build points the seam's import of that module here.
import type Gio from "gi://Gio";
import type { Extension as ModernExtension } from "resource:///org/gnome/shell/extensions/extension.js";

// What init(meta) receives from the GNOME 42–44 extension system.
interface LegacyMeta {
  uuid: string;
  path: string;
  dir: Gio.File;
  metadata: Record<string, unknown> & { uuid: string; "gettext-domain"?: string };
}

interface LegacyExtensionUtils {
  getSettings(schema?: string): Gio.Settings;
  initTranslations(domain?: string): void;
  openPrefs(): void;
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

// The part of GNOME 45's Extension that selfheal uses, over imports.misc.extensionUtils.
export class Extension {
  readonly uuid: string;
  readonly path: string;
  readonly dir: Gio.File;
  readonly metadata: LegacyMeta["metadata"];
  readonly #domain: GettextDomain;

  constructor(meta: LegacyMeta) {
    this.uuid = meta.uuid;
    this.path = meta.path;
    this.dir = meta.dir;
    this.metadata = meta.metadata;
    // init() is where GNOME 42–44 expect translations to be bound.
    const domain = meta.metadata["gettext-domain"] ?? meta.uuid;
    legacyImports.misc.extensionUtils.initTranslations(domain);
    this.#domain = legacyImports.gettext.domain(domain);
  }

  getSettings(schema?: string): Gio.Settings {
    return legacyImports.misc.extensionUtils.getSettings(schema);
  }

  openPreferences(): void {
    legacyImports.misc.extensionUtils.openPrefs();
  }

  gettext(str: string): string {
    return this.#domain.gettext(str);
  }

  ngettext(str: string, strPlural: string, n: number): string {
    return this.#domain.ngettext(str, strPlural, n);
  }

  pgettext(context: string, str: string): string {
    return this.#domain.pgettext(context, str);
  }
}

// The stand-in must offer what the code uses of the real class.
type UsedSurface = Pick<ModernExtension, "uuid" | "path" | "getSettings" | "openPreferences" | "gettext" | "ngettext">;
const _fits: Pick<Extension, keyof UsedSurface> extends UsedSurface ? true : never = true;
void _fits;
