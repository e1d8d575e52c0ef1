// TOML text for the lines selfheal writes (`selfheal policy get`, `selfheal
// import`), one `key = value` or `[table]` header at a time so that each line
// can carry its own comment. smol-toml's stringify does every quoting and
// escaping (DEL and the other control characters included); only the layout
// (one line per key, inline sub-tables) is ours.
import { stringify } from "smol-toml";

type Row = Record<string, unknown>;

// A plain object (a TOML table), not an array or a date.
function isTable(value: unknown): value is Row {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}

// `key = value` on one line; a table value is written inline (`{ a = 1, b = "x" }`).
export function tomlKeyValue(key: string, value: unknown): string {
  if (isTable(value)) {
    const keyText = stringify({ [key]: true }).slice(0, -" = true\n".length);
    const entries = Object.entries(value).filter(([, inner]) => inner !== undefined);
    return `${keyText} = ${entries.length === 0 ? "{}" : `{ ${entries.map(([inner, innerValue]) => tomlKeyValue(inner, innerValue)).join(", ")} }`}`;
  }
  if (Array.isArray(value) && value.some(isTable)) throw new TypeError(`${key}: an array of tables has no one-line TOML form`);
  // null (no TOML form) is written as the empty string, as a D-Bus record would carry it.
  return stringify({ [key]: value ?? "" }).trimEnd();
}

// A value alone, as it would stand after `key = `.
export function tomlValue(value: unknown): string {
  return tomlKeyValue("v", value).slice("v = ".length);
}

// A `[a.b]` table header for the key path.
export function tomlTableHeader(path: readonly string[]): string {
  let table: Row = {};
  for (const key of [...path].reverse()) table = { [key]: table };
  return stringify(table).trimEnd();
}

const TAB = 0x09;
const FIRST_PRINTABLE = 0x20;
const DEL = 0x7f;

// Text made safe to follow `# `: each control character but tab (which TOML 1.0 forbids in comments) written as its \uXXXX escape.
export function tomlCommentText(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    const forbidden = (code < FIRST_PRINTABLE && code !== TAB) || code === DEL;
    out += forbidden ? `\\u${code.toString(16).toUpperCase().padStart(4, "0")}` : char;
  }
  return out;
}
