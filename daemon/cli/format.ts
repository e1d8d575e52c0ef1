// How the client commands show records to people: aligned tables, sizes,
// durations, times, and policies written as config.toml would have them.
import { tomlCommentText, tomlKeyValue, tomlTableHeader, tomlValue } from "../config/tomlText.js";

export { tomlValue };

export type Row = Record<string, unknown>;

// Binary units named KB, MB, GB as config.toml's memory_limit_mb, the events, notifications and the
// extension name them (1 MB = 1024 × 1024 bytes): one unit system wherever selfheal shows memory.
const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"];
const BYTES_PER_UNIT = 1024;
const SECONDS_PER = { minute: 60, hour: 3600, day: 86_400 } as const;

export function text(record: Row, key: string): string {
  const value = record[key];
  return typeof value === "string" ? value : value === undefined || value === null ? "" : String(value);
}

export function num(record: Row, key: string): number {
  const value = record[key];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return 0;
}

// 1536 → "1.5 KB".
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= BYTES_PER_UNIT && unit < BYTE_UNITS.length - 1) {
    value /= BYTES_PER_UNIT;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

// 95 → "1m35s"; below a minute with one decimal.
export function formatDuration(seconds: number): string {
  if (seconds < SECONDS_PER.minute) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const whole = Math.round(seconds);
  if (whole < SECONDS_PER.hour) return `${Math.floor(whole / SECONDS_PER.minute)}m${String(whole % SECONDS_PER.minute).padStart(2, "0")}s`;
  if (whole < SECONDS_PER.day) return `${Math.floor(whole / SECONDS_PER.hour)}h${String(Math.floor((whole % SECONDS_PER.hour) / SECONDS_PER.minute)).padStart(2, "0")}m`;
  return `${Math.floor(whole / SECONDS_PER.day)}d${Math.floor((whole % SECONDS_PER.day) / SECONDS_PER.hour)}h`;
}

// Microseconds since the epoch as local "YYYY-MM-DD HH:MM:SS".
export function formatTime(usec: number): string {
  if (usec <= 0) return "-";
  const date = new Date(usec / 1000);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// Columns padded to their widest cell; the last column is not padded.
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** Keys of a GetPolicies record that say where its keys come from, not config.toml keys. */
const LAYER_KEYS = new Set(["overridden", "unset", "shadowed", "origin"]);
/** An app policy's name and icon as the daemon resolved them: said in a comment, not written as keys. */
const APP_KEYS = new Set(["app_name", "app_icon"]);

// The strings of a record's list value.
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

// A line's comment for the keys (key or key.inner) set over D-Bus, with what config.toml says.
function overrideNote(keys: readonly string[], shadowed: Row, prefix: string): string {
  if (keys.length === 0) return "";
  const says = keys.filter((key) => key in shadowed);
  const shown = (key: string) => (prefix === "" ? key : key.slice(prefix.length));
  const names = prefix === "" ? "" : `${keys.map(shown).join(", ")} `;
  const fileSays =
    says.length === 0 ? "" : `; config.toml says ${says.length === 1 && keys.length === 1 ? tomlValue(shadowed[says[0]!]) : says.map((key) => `${shown(key)} = ${tomlValue(shadowed[key])}`).join(", ")}`;
  return `  # ${names}set over D-Bus${fileSays}`;
}

// A policy as a [process.NAME] table of config.toml; keys set over D-Bus say so, with config.toml's value they hide.
export function policyToml(name: string, policy: Row): string {
  const unset = strings(policy.unset);
  const overridden = strings(policy.overridden).filter((key) => !unset.includes(key));
  const shadowed = (policy.shadowed !== null && typeof policy.shadowed === "object" ? policy.shadowed : {}) as Row;
  const lines: string[] = [];
  const header = tomlTableHeader(["process", name]);
  if (policy.origin === "D-Bus") lines.push(`# set over D-Bus; config.toml has no ${header}`);
  lines.push(header);
  if (typeof policy.app_name === "string") {
    const icon = typeof policy.app_icon === "string" && policy.app_icon !== "" ? ` (icon ${tomlCommentText(policy.app_icon)})` : "";
    lines.push(`# the app: ${tomlCommentText(policy.app_name)}${icon}`);
  }
  for (const [key, value] of Object.entries(policy)) {
    if (LAYER_KEYS.has(key) || APP_KEYS.has(key)) continue;
    const keys = overridden.includes(key) ? [key] : overridden.filter((other) => other.startsWith(`${key}.`));
    lines.push(`${tomlKeyValue(key, value)}${overrideNote(keys, shadowed, overridden.includes(key) ? "" : `${key}.`)}`);
  }
  for (const key of unset) lines.push(`# ${tomlCommentText(key)}: left out over D-Bus${key in shadowed ? `; config.toml says ${tomlValue(shadowed[key])}` : ""}`);
  if (policy.origin === "config.toml+D-Bus") lines.push(`# "selfheal policy reset ${name}" goes back to config.toml alone`);
  return lines.join("\n") + "\n";
}

// JSON for scripts: bigints (64-bit values too large for a number) as strings.
export function json(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === "bigint" ? inner.toString() : inner), 2);
}

export { plural } from "../words.js";
