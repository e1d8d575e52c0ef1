// Policies on the bus: GetPolicies gives each as config.toml's keys in an
// a{sv} with fixed types, plus where its keys come from (overridden, shadowed,
// origin); SetPolicy takes the same keys with any numeric type, and `unset`.
import type { Policy } from "../config/policy.js";
import type { PolicyEdit, PolicyLayers } from "../config/policyStore.js";
import { policyToRaw } from "../config/load.js";
import { InvalidArgsError, plainFromVariants, v, variantOf, type Variant, type VariantDict } from "./variants.js";

/** Keys GetPolicies adds beside config.toml's: SetPolicy ignores them, so a record can be sent back as it came. */
const READ_ONLY_KEYS = ["overridden", "shadowed", "origin", "app_name", "app_icon"] as const;
/** SetPolicy's key listing the keys to leave out, whatever config.toml says. */
const UNSET_KEY = "unset";

/** The D-Bus type of each config.toml key as GetPolicies gives it. */
const POLICY_KEY_TYPES: Record<string, (value: unknown) => Variant | null> = {
  app: (value) => v.s(String(value)),
  command: (value) => (Array.isArray(value) ? v.as(value.map(String)) : null),
  match: (value) => v.s(String(value)),
  cpu_limit: (value) => (typeof value === "number" ? v.d(value) : null),
  memory_limit_mb: (value) => (typeof value === "number" ? v.d(value) : null),
  scope: (value) => v.s(String(value)),
  sustain: (value) => (typeof value === "number" ? v.u(value) : null),
  memory_sustain: (value) => (typeof value === "number" ? v.d(value) : null),
  on_violation: (value) => v.s(String(value)),
  restart: (value) => v.s(String(value)),
  autostart: (value) => v.b(value === true),
  stop_timeout: (value) => (typeof value === "number" ? v.d(value) : null),
  cwd: (value) => v.s(String(value)),
  env: (value) => (value !== null && typeof value === "object" ? v.stringDict(Object.fromEntries(Object.entries(value).map(([k, inner]) => [k, String(inner)]))) : null),
  cooldown: (value) => subTable(value),
  leak: (value) => subTable(value),
  fork_bomb: (value) => subTable(value),
  cpu_spike: (value) => subTable(value),
};

/** Keys of the sub-tables (cooldown, leak, fork_bomb, cpu_spike) that are counts, given as u; other numbers are d. */
const COUNT_KEYS = new Set(["max_restarts", "max_descendants", "sustain", "warmup"]);

// One value of a sub-table: counts u, other numbers d, flags b, words s; null for anything else.
function subTableValue(key: string, inner: unknown): Variant | null {
  if (typeof inner === "number") return COUNT_KEYS.has(key) ? v.u(inner) : v.d(inner);
  if (typeof inner === "boolean") return v.b(inner);
  if (typeof inner === "string") return v.s(inner);
  return null;
}

// A sub-table as a{sv}: counts u, other numbers d, flags b, words s.
function subTable(value: unknown): Variant | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const out: VariantDict = {};
  for (const [key, inner] of Object.entries(value)) {
    const variant = subTableValue(key, inner);
    if (variant !== null) out[key] = variant;
  }
  return v.dict(out);
}

// One key's value, typed as GetPolicies types it; a dotted key is a sub-table's ("cooldown.pause").
function keyVariant(key: string, value: unknown): Variant | null {
  const dot = key.indexOf(".");
  if (dot >= 0) return key.startsWith("env.") ? v.s(String(value)) : subTableValue(key.slice(dot + 1), value);
  const typed = POLICY_KEY_TYPES[key];
  return typed ? typed(value) : variantOf(value);
}

// One effective policy as an a{sv} with config.toml's keys, and (given its layers) where they come from:
// `overridden` (as) the keys set or left out over D-Bus, `unset` (as) those left out, `shadowed`
// (a{sv}) config.toml's values they hide, `origin` (s) config.toml, D-Bus or config.toml+D-Bus;
// an app policy's `app_name` and `app_icon` (s).
export function policyRecord(policy: Policy, layers?: PolicyLayers): VariantDict {
  const record: VariantDict = {};
  for (const [key, value] of Object.entries(policyToRaw(policy))) {
    if (value === undefined || value === null) continue;
    const variant = keyVariant(key, value);
    if (variant !== null) record[key] = variant;
  }
  // The app's name and icon as the daemon resolved them, for editors that show the policy.
  if (policy.app !== undefined) Object.assign(record, { app_name: v.s(policy.app.name), app_icon: v.s(policy.app.icon) });
  if (layers) {
    record.overridden = v.as(layers.overridden);
    record.unset = v.as(layers.unset);
    const shadowed: VariantDict = {};
    for (const { key, fileValue } of layers.shadowed) {
      const variant = keyVariant(key, fileValue);
      if (variant !== null) shadowed[key] = variant;
    }
    record.shadowed = v.dict(shadowed);
    record.origin = v.s(layers.origin);
  }
  return record;
}

// Every effective policy, keyed by name (GetPolicies), with where its keys come from.
export function policiesRecord(policies: Iterable<Policy>, layersOf?: (name: string) => PolicyLayers): Record<string, VariantDict> {
  const out: Record<string, VariantDict> = {};
  for (const policy of policies) out[policy.name] = policyRecord(policy, layersOf?.(policy.name));
  return out;
}

// SetPolicy's a{sv}: config.toml's keys to set, and `unset` (as) the keys to leave out; the keys
// GetPolicies adds (overridden, shadowed, origin) are ignored.
export function policyInput(dict: unknown): PolicyEdit {
  const plain = plainFromVariants(dict);
  if (plain === null || typeof plain !== "object" || Array.isArray(plain)) throw new InvalidArgsError("the policy must be an a{sv} dictionary");
  const set = { ...(plain as Record<string, unknown>) };
  for (const key of READ_ONLY_KEYS) delete set[key];
  const unset = set[UNSET_KEY] ?? [];
  delete set[UNSET_KEY];
  if (!Array.isArray(unset) || !unset.every((key): key is string => typeof key === "string")) {
    throw new InvalidArgsError(`"${UNSET_KEY}" lists the keys to leave out, as an array of strings (as), e.g. ["cpu_limit", "cooldown.pause"]`);
  }
  return { set, unset };
}
