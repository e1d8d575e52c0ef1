// How an override set over D-Bus goes on top of config.toml's policy: it
// holds only the keys that were set (a sub-table's keys one by one) and the
// keys it takes away; every other key comes from config.toml as it is now.
// Also what the user is shown of it: which keys are overridden, and which of
// config.toml's values they shadow.
import type { Policy } from "./policy.js";
import type { RawPolicyTable } from "./load.js";

import { isDeepStrictEqual } from "node:util";

import { ConfigError, formatKeyPath } from "./errors.js";
import { knownKeysAt } from "./issues.js";
import { validatePolicyObject } from "./load.js";
import { RawPolicySchema } from "./schema.js";

/** One policy's override: what was set over D-Bus, and what was taken away. */
export interface PolicyOverride {
  /** config.toml's keys; a sub-table (cooldown, env, leak, fork_bomb, cpu_spike) holds only the keys set in it. */
  set: RawPolicyTable;
  /** Keys left out whatever config.toml says (their default: no limit, say), dotted inside a sub-table ("env.LANG"). */
  unset: string[];
}

/** Tables whose keys an override sets (and shows) one by one. */
const SUB_TABLES: ReadonlySet<string> = new Set(["cooldown", "env", "leak", "fork_bomb", "cpu_spike"]);

/** A config.toml value shadowed by an override. */
export interface Shadowed {
  /** The key's path in the policy: "memory_limit_mb", "cooldown.pause". */
  key: string;
  /** config.toml's value. */
  fileValue: unknown;
  /** The override's value; undefined when the override takes the key away. */
  value: unknown;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The keys a raw policy sets: top-level keys, and "table.key" for each key of a sub-table.
export function keyPaths(raw: RawPolicyTable): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (SUB_TABLES.has(key) && isTable(value)) for (const inner of Object.keys(value)) paths.push(`${key}.${inner}`);
    else paths.push(key);
  }
  return paths;
}

// A path's two parts: the top-level key and, inside a sub-table, the key there.
function splitPath(path: string): [string, string | null] {
  const dot = path.indexOf(".");
  return dot < 0 ? [path, null] : [path.slice(0, dot), path.slice(dot + 1)];
}

// The value at a path, or undefined.
export function valueAt(raw: RawPolicyTable, path: string): unknown {
  const [key, inner] = splitPath(path);
  if (inner === null) return raw[key];
  const table = raw[key];
  return isTable(table) ? table[inner] : undefined;
}

// A copy of raw without the value at path (an emptied sub-table goes too).
function withoutPath(raw: RawPolicyTable, path: string): RawPolicyTable {
  const out = structuredClone(raw);
  const [key, inner] = splitPath(path);
  if (inner === null) {
    delete out[key];
    return out;
  }
  const table = out[key];
  if (isTable(table)) {
    delete table[inner];
    if (Object.keys(table).length === 0) delete out[key];
  }
  return out;
}

// config.toml's table with the override on top (sub-tables merged key by key) and its unset keys taken out.
export function applyOverride(fileTable: RawPolicyTable | undefined, override: PolicyOverride | undefined): RawPolicyTable {
  const merged = structuredClone(fileTable ?? {});
  if (override === undefined) return merged;
  for (const [key, value] of Object.entries(override.set)) {
    const below = merged[key];
    merged[key] = SUB_TABLES.has(key) && isTable(value) ? { ...(isTable(below) ? below : {}), ...structuredClone(value) } : structuredClone(value);
  }
  let out = merged;
  for (const path of override.unset) out = withoutPath(out, path);
  return out;
}

// The effective policy: config.toml's (or none) with the override on top; throws ConfigError naming the key.
export function effectivePolicy(name: string, fileTable: RawPolicyTable | undefined, override: PolicyOverride | undefined, source: string): Policy {
  return validatePolicyObject(name, applyOverride(fileTable, override), source);
}

// Every key the override sets or takes away, sorted: GetPolicies' `overridden` marker.
export function overriddenKeys(override: PolicyOverride | undefined): string[] {
  if (override === undefined) return [];
  return [...new Set([...keyPaths(override.set), ...override.unset])].sort();
}

// config.toml's values that the override hides (keys config.toml sets and the override sets or takes away).
export function shadowedValues(fileTable: RawPolicyTable | undefined, override: PolicyOverride | undefined): Shadowed[] {
  if (fileTable === undefined || override === undefined) return [];
  const shadowed: Shadowed[] = [];
  for (const key of overriddenKeys(override)) {
    const fileValue = valueAt(fileTable, key);
    if (fileValue !== undefined) shadowed.push({ key, fileValue, value: override.unset.includes(key) ? undefined : valueAt(override.set, key) });
  }
  return shadowed;
}

// True when the override holds nothing.
export function isEmptyOverride(override: PolicyOverride): boolean {
  return Object.keys(override.set).length === 0 && override.unset.length === 0;
}

// The override without the keys that change nothing: a value config.toml (or the default) gives
// already, a key taken away that is not there. What is left is what the override really changes.
// `target`: the override's effective policy when the caller has it already.
export function withoutNoOps(name: string, fileTable: RawPolicyTable | undefined, override: PolicyOverride, target: Policy | null = null): PolicyOverride {
  const effective = (candidate: PolicyOverride): Policy | null => {
    try {
      return effectivePolicy(name, fileTable, candidate, "overrides");
    } catch {
      return null;
    }
  };
  target ??= effective(override);
  if (target === null) return override;
  // An empty sub-table sets nothing.
  const set = structuredClone(override.set);
  for (const [key, value] of Object.entries(set)) if (SUB_TABLES.has(key) && isTable(value) && Object.keys(value).length === 0) delete set[key];
  let current: PolicyOverride = { set, unset: [...override.unset] };
  for (const path of keyPaths(override.set)) {
    const trial = { set: withoutPath(current.set, path), unset: current.unset };
    if (isDeepStrictEqual(effective(trial), target)) current = trial;
  }
  for (const path of override.unset) {
    const trial = { set: current.set, unset: current.unset.filter((other) => other !== path) };
    if (isDeepStrictEqual(effective(trial), target)) current = trial;
  }
  return current;
}

// An override that gives exactly `whole` (a policy as the earlier overrides file kept it: every key),
// holding only what differs from config.toml's table: how an earlier overrides file is migrated.
export function overrideForWholePolicy(name: string, fileTable: RawPolicyTable | undefined, whole: RawPolicyTable): PolicyOverride {
  const wholeKeys = new Set(keyPaths(whole));
  const unset = keyPaths(fileTable ?? {}).filter((path) => !wholeKeys.has(path) && !wholeKeys.has(splitPath(path)[0]));
  return withoutNoOps(name, fileTable, { set: structuredClone(whole), unset });
}

// Check the keys an override takes away: each must be a key of a policy; throws ConfigError naming it.
export function validateUnset(name: string, unset: readonly string[], source: string): void {
  const problems = unset.flatMap((path) => {
    const [key, inner] = splitPath(path);
    const known = knownKeysAt(RawPolicySchema, []);
    let message: string | null = null;
    if (!known.includes(key)) message = `"${path}" is not a key of a policy; the keys are ${known.join(", ")}`;
    else if (inner !== null && !SUB_TABLES.has(key)) message = `"${key}" has no keys of its own to leave out`;
    else if (inner !== null && key !== "env" && !knownKeysAt(RawPolicySchema, [key]).includes(inner)) {
      message = `"${inner}" is not a key of ${key}; its keys are ${knownKeysAt(RawPolicySchema, [key]).join(", ")}`;
    } else if (inner === "") message = `"${path}" names no key`;
    return message === null ? [] : [{ file: source, line: null, column: null, key: formatKeyPath(["process", name, "unset"]), message }];
  });
  if (problems.length > 0) throw new ConfigError(problems);
}
