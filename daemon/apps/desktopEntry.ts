// Reading a desktop file (Desktop Entry Specification 1.5): its
// [Desktop Entry] group's keys, string escapes, localised values and lists.
// No npm package reads the format with its own escapes and locale rules (ini
// parsers take `;` for a comment and `Key[de]` for an array), so this is a
// small reader of its own, tested against the desktop files of Debian packages.

/** The group every desktop file starts with. */
export const DESKTOP_ENTRY_GROUP = "Desktop Entry";

/** A desktop file that cannot be read as one: `line` is 1-based. */
export class DesktopEntryError extends Error {
  override readonly name = "DesktopEntryError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** The [Desktop Entry] group: raw values by key as written (`Name`, `Name[de]`). */
export class DesktopEntry {
  constructor(
    readonly file: string,
    private readonly raw: ReadonlyMap<string, string>,
  ) {}

  /** The value of a string key with its escapes (\s \n \t \r \\) read; undefined when absent. */
  string(key: string): string | undefined {
    const value = this.raw.get(key);
    return value === undefined ? undefined : unescapeString(value);
  }

  /** A localestring key in the best of the user's locales (LC_MESSAGES' lang_COUNTRY@MODIFIER, lang_COUNTRY, lang@MODIFIER, lang), else as written. */
  localeString(key: string, locale: string | undefined): string | undefined {
    for (const variant of localeVariants(locale)) {
      const value = this.string(`${key}[${variant}]`);
      if (value !== undefined) return value;
    }
    return this.string(key);
  }

  /** A boolean key: true only for `true` (the spec's only spelling; `1` is read as true too, as older files wrote it). */
  boolean(key: string): boolean {
    const value = this.raw.get(key)?.trim();
    return value === "true" || value === "1";
  }

  /** A list key (`a;b;c;`), each item's escapes read, `\;` kept as a `;` inside an item. */
  list(key: string): string[] {
    const value = this.raw.get(key);
    if (value === undefined) return [];
    const items: string[] = [];
    let current = "";
    for (let i = 0; i < value.length; i++) {
      const char = value.charAt(i);
      if (char === "\\" && value.charAt(i + 1) === ";") {
        current += "\\;";
        i += 1;
      } else if (char === ";") {
        items.push(current);
        current = "";
      } else {
        current += char;
      }
    }
    if (current !== "") items.push(current);
    return items.map((item) => unescapeString(item.replaceAll("\\;", ";")));
  }
}

const ESCAPES: Record<string, string> = { s: " ", n: "\n", t: "\t", r: "\r", "\\": "\\" };

// A string value with its escape sequences read; an unknown escape is kept as written (GLib does the same).
export function unescapeString(value: string): string {
  return value.replace(/\\(.?)/g, (whole, next: string) => ESCAPES[next] ?? whole);
}

// The locale names to look a localised key up by, best first, from a POSIX locale such as "de_DE.UTF-8@euro".
export function localeVariants(locale: string | undefined): string[] {
  if (locale === undefined || locale === "" || locale === "C" || locale === "POSIX") return [];
  const match = /^([^_.@]+)(?:_([^.@]+))?(?:\.[^@]*)?(?:@(.+))?$/.exec(locale);
  if (match === null) return [];
  const [, lang, country, modifier] = match as unknown as [string, string, string | undefined, string | undefined];
  const variants: string[] = [];
  if (country !== undefined && modifier !== undefined) variants.push(`${lang}_${country}@${modifier}`);
  if (country !== undefined) variants.push(`${lang}_${country}`);
  if (modifier !== undefined) variants.push(`${lang}@${modifier}`);
  variants.push(lang);
  return variants;
}

// The user's message locale as the environment gives it (LC_ALL, then LC_MESSAGES, then LANG).
export function messagesLocale(env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (const name of ["LC_ALL", "LC_MESSAGES", "LANG"]) {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

/** A key as the spec allows it: letters, digits and `-`, then an optional [locale]. */
const KEY = /^[A-Za-z0-9-]+(\[[^\]]+\])?$/;

// Read a desktop file's text: its [Desktop Entry] group (other groups, such as actions, are skipped).
// Throws DesktopEntryError for a file that is not one: no [Desktop Entry] group, a line that is
// neither a comment, a group header nor Key=Value, or keys before the first group.
export function parseDesktopEntry(text: string, file: string): DesktopEntry {
  const raw = new Map<string, string>();
  let group: string | null = null;
  let found = false;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const number = index + 1;
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (trimmed.startsWith("[")) {
      if (!trimmed.endsWith("]")) throw new DesktopEntryError(file, number, `a group header must end with "]": ${JSON.stringify(trimmed)}`);
      group = trimmed.slice(1, -1);
      if (group === DESKTOP_ENTRY_GROUP) {
        if (found) throw new DesktopEntryError(file, number, `the [${DESKTOP_ENTRY_GROUP}] group is given twice`);
        found = true;
      }
      continue;
    }
    const equals = line.indexOf("=");
    if (equals < 0) throw new DesktopEntryError(file, number, `expected Key=Value, a [Group] or a # comment, got ${JSON.stringify(trimmed)}`);
    if (group === null) throw new DesktopEntryError(file, number, `a key before the [${DESKTOP_ENTRY_GROUP}] group`);
    // Spaces around "=" are ignored; a value keeps the spaces inside and at its end as written.
    const key = line.slice(0, equals).trim();
    if (!KEY.test(key)) throw new DesktopEntryError(file, number, `${JSON.stringify(key)} is not a key (letters, digits and -, then an optional [locale])`);
    if (group !== DESKTOP_ENTRY_GROUP) continue;
    // A key given twice (desktop-file-validate's error): the first counts.
    if (!raw.has(key)) raw.set(key, line.slice(equals + 1).replace(/^[ \t]+/, ""));
  }
  if (!found) throw new DesktopEntryError(file, 1, `no [${DESKTOP_ENTRY_GROUP}] group: not a desktop file`);
  return new DesktopEntry(file, raw);
}
