// Policies set or removed over D-Bus live in a daemon-owned JSON file beside the
// other state, so the hand-written config.toml (and its comments) is never
// rewritten. An override holds only the keys that were set (and those taken
// away); config.toml's other keys keep applying (see layers.ts). A removed name
// hides config.toml's policy until ResetPolicy (or SetPolicy) brings it back.
//
// The file (version 2):
//   { "version": 2,
//     "policies": { "web": { "set": { "memory_limit_mb": 120 }, "unset": ["cpu_limit"] } },
//     "removed": ["old"] }
// The earlier format, { "set": { name: whole policy }, "removed": [...] },
// is read too, and migrated by the PolicyStore (see migrateWholePolicies).
import type { Config, Policy } from "./policy.js";
import type { ParsedConfig, RawPolicyTable } from "./load.js";
import type * as core from "zod/v4/core";

import { copyFileSync, existsSync } from "node:fs";

import * as z from "zod/mini";

import { writeFileAtomic, writeFileAtomicSync } from "../state/atomic.js";
import { ConfigError, type ConfigProblem } from "./errors.js";
import { effectivePolicy, isEmptyOverride, overrideForWholePolicy, validateUnset, type PolicyOverride } from "./layers.js";
import { validatePolicyObject } from "./load.js";
import { SIZE_LIMITS } from "./defaults.js";
import "./zodMessages.js";
import { FileTooLargeError, formatBytes, readFileCapped } from "./sizes.js";

/** The file's format version. */
export const OVERRIDES_VERSION = 2;

/** What the daemon keeps of the edits made over D-Bus. */
export interface Overrides {
  /** Each policy's override, by name; a name config.toml does not have is a policy of its own. */
  policies: Record<string, PolicyOverride>;
  /** Names whose config.toml policy is hidden. */
  removed: string[];
}

/** What loading found: usable overrides, what was wrong with the file (then ignored), and an earlier format to migrate. */
export interface LoadedOverrides {
  overrides: Overrides;
  error: ConfigError | null;
  /** The whole policies of an earlier-format file, by name (null for a current one). */
  wholePolicies: Record<string, RawPolicyTable> | null;
}

const PolicyOverrideSchema = z.strictObject({
  set: z._default(z.record(z.string(), z.unknown()), {}),
  unset: z._default(z.array(z.string()), []),
});

const CurrentFileSchema = z.strictObject({
  version: z.literal(OVERRIDES_VERSION),
  policies: z._default(z.record(z.string(), PolicyOverrideSchema), {}),
  removed: z._default(z.array(z.string()), []),
});

/** The first format: whole policies (every key) under `set`. */
const EarlierFileSchema = z.strictObject({
  set: z._default(z.record(z.string(), z.record(z.string(), z.unknown())), {}),
  removed: z._default(z.array(z.string()), []),
});

// No overrides at all.
export function emptyOverrides(): Overrides {
  return { policies: {}, removed: [] };
}

// A ConfigError about the file as a whole.
function fileError(path: string, message: string): ConfigError {
  return new ConfigError([{ file: path, line: null, column: null, key: "", message }]);
}

// Describe zod's complaints about the file's shape.
function shapeProblems(error: core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "top level"}: ${issue.message}`).join("; ");
}

// Parse the file's text; a corrupt file yields empty overrides and an error naming it.
export function parseOverrides(text: string, path: string): LoadedOverrides {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { overrides: emptyOverrides(), error: fileError(path, `corrupt overrides file, ignored: ${(error as Error).message}`), wholePolicies: null };
  }
  const isCurrent = json !== null && typeof json === "object" && "version" in json;
  if (!isCurrent) {
    const earlier = EarlierFileSchema.safeParse(json);
    if (!earlier.success) return { overrides: emptyOverrides(), error: fileError(path, `corrupt overrides file, ignored: ${shapeProblems(earlier.error)}`), wholePolicies: null };
    const { kept, problems } = keepValid(earlier.data.set, (name, raw) => validatePolicyObject(name, raw, path));
    return { overrides: { policies: {}, removed: earlier.data.removed }, error: problemsError(problems), wholePolicies: kept };
  }
  const current = CurrentFileSchema.safeParse(json);
  if (!current.success) return { overrides: emptyOverrides(), error: fileError(path, `corrupt overrides file, ignored: ${shapeProblems(current.error)}`), wholePolicies: null };
  const { kept, problems } = keepValid(current.data.policies, (name, override) => {
    validatePolicyObject(name, override.set, path);
    validateUnset(name, override.unset, path);
  });
  return { overrides: { policies: kept, removed: current.data.removed }, error: problemsError(problems), wholePolicies: null };
}

// The entries that pass `check`, and the problems of those that do not (they are dropped).
function keepValid<T>(entries: Record<string, T>, check: (name: string, value: T) => void): { kept: Record<string, T>; problems: ConfigProblem[] } {
  const kept: Record<string, T> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, value] of Object.entries(entries)) {
    try {
      check(name, value);
      kept[name] = value;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  return { kept, problems };
}

function problemsError(problems: ConfigProblem[]): ConfigError | null {
  return problems.length > 0 ? new ConfigError(problems) : null;
}

// Read the overrides file; a missing file is no overrides, a corrupt or oversized one is reported and left as it is.
export function loadOverrides(path: string): LoadedOverrides {
  let text: string;
  try {
    text = readFileCapped(path, SIZE_LIMITS.config_bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { overrides: emptyOverrides(), error: null, wholePolicies: null };
    if (error instanceof FileTooLargeError) return { overrides: emptyOverrides(), error: fileError(path, `${error.message}, ignored`), wholePolicies: null };
    return { overrides: emptyOverrides(), error: fileError(path, `cannot read overrides file, ignored: ${(error as Error).message}`), wholePolicies: null };
  }
  return parseOverrides(text, path);
}

// Turn an earlier file's whole policies into overrides holding only what differs from config.toml
// (so its later edits apply again); the policies in force stay exactly as they were.
export function migrateWholePolicies(wholePolicies: Record<string, RawPolicyTable>, removed: string[], file: ParsedConfig): Overrides {
  const policies: Record<string, PolicyOverride> = {};
  for (const [name, whole] of Object.entries(wholePolicies)) {
    const override = overrideForWholePolicy(name, file.tables[name], whole);
    if (!isEmptyOverride(override) || file.tables[name] === undefined) policies[name] = override;
  }
  return { policies, removed };
}

// Keep a copy of a corrupt, partly invalid or oversized overrides file before it is replaced, so nothing is lost.
// A file that still holds `onDisk` (see saveOverrides) needs no check: all it holds is in what replaces it.
function preserveIfCorrupt(path: string, onDisk: string | null): void {
  if (onDisk !== null && holds(path, onDisk)) return;
  if (loadOverrides(path).error === null) return;
  try {
    copyFileSync(path, `${path}.corrupt-${new Date().toISOString().replaceAll(":", "-")}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

// True when the file at `path` holds exactly `text`.
function holds(path: string, text: string): boolean {
  try {
    return readFileCapped(path, SIZE_LIMITS.config_bytes) === text;
  } catch {
    return false;
  }
}

// Keep the earlier-format file as path.v1 (or path.v1-TIME when that exists) before it is replaced.
export function preserveEarlierFormat(path: string): string {
  const aside = existsSync(`${path}.v1`) ? `${path}.v1-${new Date().toISOString().replaceAll(":", "-")}` : `${path}.v1`;
  copyFileSync(path, aside);
  return aside;
}

// The file's text: policies by name, an empty unset left out, removed names sorted.
export function serialiseOverrides(data: Overrides): string {
  const policies: Record<string, { set: RawPolicyTable; unset?: string[] }> = {};
  for (const name of Object.keys(data.policies).sort()) {
    const override = data.policies[name]!;
    policies[name] = override.unset.length > 0 ? { set: override.set, unset: [...override.unset].sort() } : { set: override.set };
  }
  return `${JSON.stringify({ version: OVERRIDES_VERSION, policies, removed: [...new Set(data.removed)].sort() }, null, 2)}\n`;
}

// The file's text, refused when it would be larger than the cap on what is read back.
function boundedText(path: string, data: Overrides): string {
  const text = serialiseOverrides(data);
  const bytes = Buffer.byteLength(text);
  if (bytes > SIZE_LIMITS.config_bytes) throw fileError(path, `would be ${bytes} bytes; at most ${formatBytes(SIZE_LIMITS.config_bytes)} are kept`);
  return text;
}

// Write the overrides file atomically (a corrupt previous file is kept aside first); gives the text written.
// `onDisk`: the text the caller last read whole from the file (nothing dropped) or wrote to it, all of
// which is in `data`'s making. While the file still holds it, the file is replaced without being read
// and checked again to decide on a copy: that check validated every policy in it, each app's desktop
// file read again, on every edit. A file changed since (by hand) is checked, and kept when corrupt.
export async function saveOverrides(path: string, data: Overrides, onDisk: string | null = null): Promise<string> {
  const text = boundedText(path, data);
  preserveIfCorrupt(path, onDisk);
  // The edit's reply waits for the file in place, not for its directory's flush (1 to 7 ms here).
  await writeFileAtomic(path, text, { flushDirectory: "after" });
  return text;
}

// The same, at once (the migration at start); gives the text written.
export function saveOverridesSync(path: string, data: Overrides): string {
  const text = boundedText(path, data);
  writeFileAtomicSync(path, text);
  return text;
}

// Overrides with `name`'s override replaced (null: dropped) and its removal cleared.
export function withOverride(overrides: Overrides, name: string, override: PolicyOverride | null): Overrides {
  const policies = { ...overrides.policies };
  if (override === null) delete policies[name];
  else policies[name] = override;
  return { policies, removed: overrides.removed.filter((other) => other !== name) };
}

// Overrides with `name` removed: its override dropped and, when config.toml has it, its policy hidden.
export function withPolicyRemoved(overrides: Overrides, name: string, inConfigFile: boolean): Overrides {
  const policies = { ...overrides.policies };
  delete policies[name];
  const removed = overrides.removed.filter((other) => other !== name);
  return { policies, removed: inConfigFile ? [...removed, name] : removed };
}

/** A policy with its override on top, validated: effectivePolicy, or one that remembers earlier results. */
export type EffectivePolicyOf = (name: string, fileTable: RawPolicyTable | undefined, override: PolicyOverride) => Policy;

// The config the daemon runs: config.toml's, minus removed names, with each override on top.
// An override that no longer fits config.toml (it cannot, key by key, but to be safe) is left out and reported.
export function mergeConfig(
  file: ParsedConfig,
  overrides: Overrides,
  report: (message: string) => void = () => undefined,
  effective: EffectivePolicyOf = (name, fileTable, override) => effectivePolicy(name, fileTable, override, "overrides"),
): Config {
  const policies = new Map(file.config.policies);
  for (const name of overrides.removed) policies.delete(name);
  for (const [name, override] of Object.entries(overrides.policies)) {
    try {
      policies.set(name, effective(name, file.tables[name], override));
    } catch (error) {
      report(`the override of ${name} does not apply over config.toml, ignored: ${(error as Error).message}`);
    }
  }
  return { ...file.config, policies };
}
