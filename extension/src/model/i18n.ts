// Translation without GNOME: the views pass the extension's gettext in, the tests pass none.

export interface Translator {
  gettext(str: string): string;
  ngettext(str: string, strPlural: string, n: number): string;
}

// Returns the strings untranslated (English), choosing the plural form by n.
export const untranslated: Translator = {
  gettext: (str) => str,
  ngettext: (str, strPlural, n) => (n === 1 ? str : strPlural),
};

// Fills `{name}` placeholders, so translators can move them around within a sentence.
export function interpolate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}
