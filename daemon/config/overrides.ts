// Policies set or removed over D-Bus live in a daemon-owned JSON file beside the
// other state, so the hand-written config.toml (and its comments) is never
// rewritten. Overrides win over config.toml; removed names disappear from it.
import type { Config, Policy } from "./policy.js";

import { copyFileSync, readFileSync } from "node:fs";

import { z } from "zod";

import { writeFileAtomic } from "../state/atomic.js";
import { ConfigError } from "./errors.js";
import { policyToRaw, validatePolicyObject } from "./load.js";

/** The overrides file: `{ "set": { name: rawPolicy }, "removed": [names] }`. */
export interface Overrides {
  /** Whole policies, with config.toml's snake_case keys, that replace or add to the file's. */
  set: Record<string, Record<string, unknown>>;
  /** Names whose config.toml policy is hidden. */
  removed: string[];
}

/** What loading found: usable overrides, and what was wrong with the file (then ignored). */
export interface LoadedOverrides {
  overrides: Overrides;
  error: ConfigError | null;
}

const OverridesFileSchema = z.strictObject({
  set: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  removed: z.array(z.string()).default([]),
});

// No overrides at all.
export function emptyOverrides(): Overrides {
  return { set: {}, removed: [] };
}

// A ConfigError about the file as a whole.
function fileError(path: string, message: string): ConfigError {
  return new ConfigError([{ file: path, line: null, column: null, key: "", message }]);
}

// Parse the file's text; a corrupt file yields empty overrides and an error naming it.
export function parseOverrides(text: string, path: string): LoadedOverrides {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { overrides: emptyOverrides(), error: fileError(path, `corrupt overrides file, ignored: ${(error as Error).message}`) };
  }
  const shape = OverridesFileSchema.safeParse(json);
  if (!shape.success) {
    const where = shape.error.issues.map((issue) => `${issue.path.join(".") || "top level"}: ${issue.message}`).join("; ");
    return { overrides: emptyOverrides(), error: fileError(path, `corrupt overrides file, ignored: ${where}`) };
  }
  return keepValidPolicies(shape.data, path);
}

// Drop (and report) the policies that no longer validate, keeping the rest.
function keepValidPolicies(overrides: Overrides, path: string): LoadedOverrides {
  const set: Overrides["set"] = {};
  const problems: ConfigError["problems"][number][] = [];
  for (const [name, raw] of Object.entries(overrides.set)) {
    try {
      validatePolicyObject(name, raw, path);
      set[name] = raw;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  return { overrides: { set, removed: overrides.removed }, error: problems.length > 0 ? new ConfigError(problems) : null };
}

// Read the overrides file; a missing file is no overrides, a corrupt one is reported and left as it is.
export function loadOverrides(path: string): LoadedOverrides {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { overrides: emptyOverrides(), error: null };
    return { overrides: emptyOverrides(), error: fileError(path, `cannot read overrides file, ignored: ${(error as Error).message}`) };
  }
  return parseOverrides(text, path);
}

// Keep a copy of a corrupt (or partly invalid) overrides file before it is replaced, so nothing is lost.
function preserveIfCorrupt(path: string): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return;
  }
  if (parseOverrides(text, path).error !== null) copyFileSync(path, `${path}.corrupt-${new Date().toISOString().replaceAll(":", "-")}`);
}

// Write the overrides file atomically (a corrupt previous file is kept aside first).
export async function saveOverrides(path: string, data: Overrides): Promise<void> {
  preserveIfCorrupt(path);
  const ordered: Overrides = { set: data.set, removed: [...new Set(data.removed)].sort() };
  await writeFileAtomic(path, `${JSON.stringify(ordered, null, 2)}\n`);
}

// Overrides with `policy` set (and no longer removed); SetPolicy's persistence step.
export function withPolicySet(overrides: Overrides, policy: Policy): Overrides {
  return {
    set: { ...overrides.set, [policy.name]: policyToRaw(policy) },
    removed: overrides.removed.filter((name) => name !== policy.name),
  };
}

// Overrides with `name` removed whether it came from config.toml or an earlier SetPolicy.
export function withPolicyRemoved(overrides: Overrides, name: string): Overrides {
  const set = { ...overrides.set };
  delete set[name];
  const removed = overrides.removed.includes(name) ? overrides.removed : [...overrides.removed, name];
  return { set, removed };
}

// The config the daemon runs: config.toml's, minus removed names, with set policies winning.
export function mergeConfig(fileConfig: Config, overrides: Overrides): Config {
  const policies = new Map(fileConfig.policies);
  for (const name of overrides.removed) policies.delete(name);
  for (const [name, raw] of Object.entries(overrides.set)) policies.set(name, validatePolicyObject(name, raw, "overrides"));
  return { ...fileConfig, policies };
}
