// Translation without GNOME: the views take the extension's gettext as a Translator (the tests
// pass one that translates nothing).

export interface Translator {
  gettext(str: string): string;
  ngettext(str: string, strPlural: string, n: number): string;
}

// Fills `{name}` placeholders, so translators can move them around within a sentence.
export function interpolate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}
