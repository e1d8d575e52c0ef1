// Policies on the bus: GetPolicies gives each as config.toml's keys in an
// a{sv} with fixed types; SetPolicy takes the same keys with any numeric type.
import type { Policy } from "../config/policy.js";
import { policyToRaw } from "../config/load.js";
import { InvalidArgsError, plainFromVariants, v, variantOf, type Variant, type VariantDict } from "./variants.js";

/** The D-Bus type of each config.toml key as GetPolicies gives it. */
const POLICY_KEY_TYPES: Record<string, (value: unknown) => Variant | null> = {
  command: (value) => (Array.isArray(value) ? v.as(value.map(String)) : null),
  match: (value) => v.s(String(value)),
  cpu_limit: (value) => (typeof value === "number" ? v.d(value) : null),
  memory_limit_mb: (value) => (typeof value === "number" ? v.d(value) : null),
  scope: (value) => v.s(String(value)),
  sustain: (value) => (typeof value === "number" ? v.u(value) : null),
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

// A sub-table as a{sv}: counts u, other numbers d, flags b, words s.
function subTable(value: unknown): Variant | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const out: VariantDict = {};
  for (const [key, inner] of Object.entries(value)) {
    if (typeof inner === "number") out[key] = COUNT_KEYS.has(key) ? v.u(inner) : v.d(inner);
    else if (typeof inner === "boolean") out[key] = v.b(inner);
    else if (typeof inner === "string") out[key] = v.s(inner);
  }
  return v.dict(out);
}

// One effective policy as an a{sv} with config.toml's keys.
export function policyRecord(policy: Policy): VariantDict {
  const record: VariantDict = {};
  for (const [key, value] of Object.entries(policyToRaw(policy))) {
    if (value === undefined || value === null) continue;
    const typed = POLICY_KEY_TYPES[key];
    const variant = typed ? typed(value) : variantOf(value);
    if (variant !== null) record[key] = variant;
  }
  return record;
}

// Every effective policy, keyed by name (GetPolicies).
export function policiesRecord(policies: Iterable<Policy>): Record<string, VariantDict> {
  const out: Record<string, VariantDict> = {};
  for (const policy of policies) out[policy.name] = policyRecord(policy);
  return out;
}

// SetPolicy's a{sv} as the plain object the config validator takes.
export function policyInput(dict: unknown): Record<string, unknown> {
  const plain = plainFromVariants(dict);
  if (plain === null || typeof plain !== "object" || Array.isArray(plain)) throw new InvalidArgsError("the policy must be an a{sv} dictionary");
  return plain as Record<string, unknown>;
}
