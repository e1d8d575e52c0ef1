// The detectors' keys as config.toml writes them and as the engine names them:
// one table per detector, read both ways (config → engine, and back for
// GetPolicies and the overrides file), so a key is named in one place only.
import type { CpuSpikeSettings, ForkBombSettings, LeakSettings } from "./policy.js";

/** Engine name → config.toml key. */
type KeyTable<T> = { readonly [K in keyof T]-?: string };

export const LEAK_KEYS: KeyTable<LeakSettings> = {
  enabled: "enabled",
  action: "action",
  windowSec: "window",
  minDurationSec: "min_duration",
  minRateMbPerMin: "min_rate_mb_per_min",
  minGrowthMb: "min_growth_mb",
  minR2: "min_r2",
};

export const FORK_BOMB_KEYS: KeyTable<ForkBombSettings> = {
  enabled: "enabled",
  action: "action",
  maxDescendants: "max_descendants",
  maxSpawnRate: "max_spawn_rate",
};

export const CPU_SPIKE_KEYS: KeyTable<CpuSpikeSettings> = {
  enabled: "enabled",
  action: "action",
  sigma: "sigma",
  minPercent: "min_percent",
  baselineSec: "baseline",
  sustain: "sustain",
  warmup: "warmup",
};

// The keys written in a validated table, under the engine's names (absent ones left out).
export function fromConfigKeys<T>(table: KeyTable<T>, raw: object): Partial<T> {
  const values = raw as Record<string, unknown>;
  const entries = Object.entries<string>(table)
    .filter(([, key]) => values[key] !== undefined)
    .map(([name, key]) => [name, values[key]]);
  // The schema validated each value's type for its key, so the mapped object is a Partial<T>.
  return Object.fromEntries(entries) as Partial<T>;
}

// Settings back under config.toml's keys (undefined ones left out).
export function toConfigKeys<T>(table: KeyTable<T>, settings: Partial<T>): Record<string, unknown> {
  const values = settings as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries<string>(table)
      .filter(([name]) => values[name] !== undefined)
      .map(([name, key]) => [key, values[name]]),
  );
}
