// What the GNOME 42–44 stand-ins for the extension and preferences base classes share: the
// legacy imports.* they sit on, and settings and translations through extensionUtils.
import type Gio from "gi://Gio";

export interface LegacyExtension {
  uuid: string;
  path: string;
  dir: Gio.File;
}

interface LegacyExtensionUtils {
  getSettings(schema?: string): Gio.Settings;
  initTranslations(domain?: string): void;
  openPrefs(): void;
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

export type LegacyMetadata = Record<string, unknown> & { uuid: string; "gettext-domain"?: string };

export const legacyImports = (globalThis as unknown as { imports: LegacyImports }).imports;

// Binds the extension's translations (GNOME 42–44 expect it at init) and serves its settings
// and strings, as GNOME 45's base classes do.
export class LegacyBase {
  readonly #domain: GettextDomain;

  constructor(metadata: LegacyMetadata) {
    const domain = metadata["gettext-domain"] ?? metadata.uuid;
    legacyImports.misc.extensionUtils.initTranslations(domain);
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

  pgettext(context: string, str: string): string {
    return this.#domain.pgettext(context, str);
  }
}
