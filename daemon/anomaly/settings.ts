// The thresholds in force for one policy: its own keys over the [anomaly]
// defaults, over the built-in defaults when the config has no [anomaly] at all.
import type { AnomalySettings, Config, Policy } from "../config/policy.js";
import { normaliseAnomaly, RawAnomalySchema } from "../config/schema.js";

/** The built-in defaults, as an empty [anomaly] section gives them. */
export const DEFAULT_ANOMALY_SETTINGS: AnomalySettings = normaliseAnomaly(RawAnomalySchema.parse({}));

export type EffectiveAnomalySettings = Pick<AnomalySettings, "leak" | "forkBomb" | "cpuSpike">;

// The [anomaly] section in force.
export function anomalySettingsOf(config: Config): AnomalySettings {
  return config.anomaly ?? DEFAULT_ANOMALY_SETTINGS;
}

// One policy's thresholds: each of its keys wins over the section's.
export function effectiveSettings(section: AnomalySettings, policy: Policy | undefined): EffectiveAnomalySettings {
  const own = policy?.anomaly;
  return {
    leak: { ...section.leak, ...own?.leak },
    forkBomb: { ...section.forkBomb, ...own?.forkBomb },
    cpuSpike: { ...section.cpuSpike, ...own?.cpuSpike },
  };
}
