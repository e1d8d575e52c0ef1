// The daemon's effective configuration: config.toml (the last good version of
// it) with the overrides set over D-Bus on top, key by key. Edits are validated
// before they replace anything, so a bad edit never takes the good config away;
// and what an override shadows in config.toml is told, never silent.
import type { Config, Policy } from "./policy.js";
import type { RawPolicyTable } from "./load.js";

import { ConfigError, parseConfigTables, readConfigFile, validatePolicyObject, type ParsedConfig } from "./load.js";
import { formatKeyPath } from "./errors.js";
import { SIZE_LIMITS } from "./defaults.js";
import { formatBytes } from "./sizes.js";
import { writeFileAtomicSync } from "../state/atomic.js";
import { resolvingAppsOnce } from "../apps/catalog.js";
import { effectivePolicy, isEmptyOverride, overriddenKeys, shadowedValues, validateUnset, withoutNoOps, type PolicyOverride, type Shadowed } from "./layers.js";
import {
  loadOverrides,
  mergeConfig,
  migrateWholePolicies,
  preserveEarlierFormat,
  saveOverrides,
  saveOverridesSync,
  serialiseOverrides,
  withOverride,
  withPolicyRemoved,
  type EffectivePolicyOf,
  type Overrides,
} from "./overrides.js";

export interface PolicyStorePaths {
  config: string;
  overrides: string;
  /** A copy of the last config.toml that loaded, used when the file is broken at start. */
  lastGood: string;
}

export type ReloadResult = { ok: true; config: Config } | { ok: false; error: ConfigError };

/** config.toml as it is on disk was rejected: why, and whether an earlier good version is in force. */
export interface FileRejection {
  error: ConfigError;
  /** False when no version of config.toml ever loaded (none of its policies are in force). */
  lastGoodInForce: boolean;
}

/** Where one policy's keys come from. */
export interface PolicyLayers {
  /** "config.toml", "D-Bus" (a policy set over D-Bus only) or "config.toml+D-Bus". */
  origin: string;
  /** Keys the override sets or takes away (dotted inside a sub-table). */
  overridden: string[];
  /** Of those, the keys it takes away (left out whatever config.toml says). */
  unset: string[];
  /** config.toml's values that the override hides. */
  shadowed: Shadowed[];
}

/** A SetPolicy edit: config.toml's keys to set, and the keys to leave out whatever config.toml says. */
export interface PolicyEdit {
  set: RawPolicyTable;
  unset: string[];
}

export class PolicyStore {
  private file: ParsedConfig;
  private overrides: Overrides;
  /** Set while the config.toml on disk is one that was rejected. */
  private fileRejection: FileRejection | null = null;
  /** Problems found while starting (a broken config.toml or overrides file), for the event log. */
  readonly startupProblems: ConfigError[] = [];

  constructor(private readonly paths: PolicyStorePaths) {
    const first = this.readFile();
    if (first.ok) {
      this.file = first.file;
    } else {
      this.startupProblems.push(first.error);
      const lastGood = this.readLastGood();
      this.file = lastGood ?? parseConfigTables("", this.paths.config);
      this.fileRejection = { error: first.error, lastGoodInForce: lastGood !== null };
    }
    const loaded = loadOverrides(paths.overrides);
    if (loaded.error) this.startupProblems.push(loaded.error);
    this.overrides = loaded.overrides;
    // A file read whole, as the daemon writes it: the first save needs no check of it either.
    if (loaded.error === null && loaded.wholePolicies === null) this.overridesText = serialiseOverrides(loaded.overrides);
    if (loaded.wholePolicies !== null) this.migrate(loaded.wholePolicies);
  }

  /** The overrides file's text as this store last read it whole or wrote it; null when not known (see saveOverrides). */
  private overridesText: string | null = null;

  /** The merged config, kept until config.toml or the overrides change (merging validates every override). */
  private merged: Config | null = null;

  get config(): Config {
    this.merged ??= mergeConfig(this.file, this.overrides, reportMerge, this.effectiveOver(this.file));
    return this.merged;
  }

  /**
   * Each override's policy as last merged, with the config.toml table it went over: an edit replaces
   * one override and leaves the others' objects as they were, so the merge after it validates only
   * the edited policy, not every one (each app's desktop file read again). A reload of config.toml
   * (a new ParsedConfig) validates them all again, its apps read again.
   */
  private readonly mergedPolicies = new WeakMap<PolicyOverride, { file: ParsedConfig; fileTable: RawPolicyTable | undefined; policy: Policy }>();

  private effectiveOver(file: ParsedConfig): EffectivePolicyOf {
    return (name, fileTable, override) => {
      const known = this.mergedPolicies.get(override);
      if (known !== undefined && known.file === file && known.fileTable === fileTable && known.policy.name === name) return known.policy;
      const policy = effectivePolicy(name, fileTable, override, "overrides");
      this.mergedPolicies.set(override, { file, fileTable, policy });
      return policy;
    };
  }

  /** Why the config.toml on disk is not the one in force, or null when it is. */
  get rejection(): FileRejection | null {
    return this.fileRejection;
  }

  // Re-read config.toml after an edit; on error the previous policies stay in force.
  reload(): ReloadResult {
    const result = this.readFile();
    if (!result.ok) {
      // An earlier rejection kept the last good version (or none) in force: that has not changed.
      this.fileRejection = { error: result.error, lastGoodInForce: this.fileRejection?.lastGoodInForce ?? true };
      return result;
    }
    // One merge, counted and then kept (each app policy's desktop file read once per reload).
    const problems: string[] = [];
    const merged = mergeConfig(result.file, this.overrides, (message) => problems.push(message), this.effectiveOver(result.file));
    const count = merged.policies.size;
    if (count > SIZE_LIMITS.policies) {
      const error = new ConfigError([
        { file: this.paths.config, line: null, column: null, key: "process", message: `with the policies set over D-Bus there would be ${count} policies; at most ${SIZE_LIMITS.policies} are accepted` },
      ]);
      this.fileRejection = { error, lastGoodInForce: this.fileRejection?.lastGoodInForce ?? true };
      return { ok: false, error };
    }
    this.file = result.file;
    this.merged = merged;
    for (const message of problems) reportMerge(message);
    this.fileRejection = null;
    return { ok: true, config: this.config };
  }

  // SetPolicy: the keys given (and those to leave out) become the policy's override, replacing an
  // earlier one and bringing back a removed policy; keys that change nothing are not kept.
  // Throws ConfigError naming the key.
  // Each app is looked up once for the whole edit (see resolvingAppsOnce).
  setPolicy(name: string, edit: PolicyEdit): Promise<Config> {
    return resolvingAppsOnce(() => this.setPolicyOnce(name, edit));
  }

  private async setPolicyOnce(name: string, edit: PolicyEdit): Promise<Config> {
    validatePolicyObject(name, edit.set, "SetPolicy");
    validateUnset(name, edit.unset, "SetPolicy");
    const fileTable = this.file.tables[name];
    const target = effectivePolicy(name, fileTable, edit, "SetPolicy");
    const kept = withoutNoOps(name, fileTable, { set: edit.set, unset: [...new Set(edit.unset)] }, target);
    // A policy of config.toml needs no override that changes nothing; one set over D-Bus only is its override.
    const override = isEmptyOverride(kept) && fileTable !== undefined ? null : kept;
    // What is left gives the same policy (withoutNoOps keeps that so): the merge need not validate it again.
    if (override !== null) this.mergedPolicies.set(override, { file: this.file, fileTable, policy: target });
    const next = withOverride(this.overrides, name, override);
    const refuse = (message: string) => new ConfigError([{ file: "SetPolicy", line: null, column: null, key: formatKeyPath(["process", name]), message }]);
    const policies = this.config.policies;
    if (!policies.has(name) && policies.size >= SIZE_LIMITS.policies) {
      throw refuse(`there are ${policies.size} policies already, the most accepted; remove one first`);
    }
    const bytes = Buffer.byteLength(serialiseOverrides(next));
    if (bytes > SIZE_LIMITS.config_bytes) {
      throw refuse(`the policies set over D-Bus would take ${bytes} bytes; at most ${formatBytes(SIZE_LIMITS.config_bytes)} are kept, remove some first`);
    }
    await this.save(next);
    return this.config;
  }

  // Remove a policy (config.toml's is hidden, an override dropped) and persist that.
  removePolicy(name: string): Promise<Config> {
    return resolvingAppsOnce(async () => {
      await this.save(withPolicyRemoved(this.overrides, name, this.file.tables[name] !== undefined));
      return this.config;
    });
  }

  // Drop the override and the removal of a policy: back to config.toml (a policy set only over
  // D-Bus goes). Null when there is no policy, override or removal of that name.
  resetPolicy(name: string): Promise<Config | null> {
    return resolvingAppsOnce(async () => {
      const known = this.overrides.policies[name] !== undefined || this.overrides.removed.includes(name) || this.config.policies.has(name);
      if (!known) return null;
      await this.save(withOverride(this.overrides, name, null));
      return this.config;
    });
  }

  /** Where the keys of a policy in force come from. */
  layersOf(name: string): PolicyLayers {
    const fileTable = this.file.tables[name];
    const override = this.overrides.policies[name];
    const origin = override === undefined ? "config.toml" : fileTable === undefined ? "D-Bus" : "config.toml+D-Bus";
    return { origin, overridden: overriddenKeys(override), unset: [...(override?.unset ?? [])].sort(), shadowed: shadowedValues(fileTable, override) };
  }

  /** config.toml's policies hidden by RemovePolicy, by name, as config.toml gives them. */
  hiddenPolicies(): Config["policies"] {
    const hidden: Config["policies"] = new Map();
    for (const name of this.overrides.removed) {
      const policy = this.file.config.policies.get(name);
      if (policy) hidden.set(name, policy);
    }
    return hidden;
  }

  // Why a name has no policy, when config.toml has one that was removed over D-Bus; else null.
  hiddenReason(name: string): string | null {
    if (!this.hiddenPolicies().has(name)) return null;
    return `config.toml has one, but it was removed over D-Bus; "selfheal policy reset ${name}" (ResetPolicy) brings it back`;
  }

  /** What overrides shadow in config.toml, one sentence each: the reload event tells these. */
  notices(): string[] {
    const notices: string[] = [];
    for (const name of Object.keys(this.overrides.policies).sort()) {
      for (const shadowed of this.layersOf(name).shadowed) {
        const where = `process.${name}.${shadowed.key}: ${showValue(shadowed.fileValue)} in config.toml`;
        notices.push(shadowed.value === undefined ? `${where} is overridden: left out over D-Bus` : `${where} is overridden by ${showValue(shadowed.value)} set over D-Bus`);
      }
    }
    for (const name of [...this.hiddenPolicies().keys()].sort()) {
      notices.push(`process.${name} in config.toml is hidden: removed over D-Bus (selfheal policy reset ${name} brings it back)`);
    }
    return notices;
  }

  private async save(next: Overrides): Promise<void> {
    this.overridesText = await saveOverrides(this.paths.overrides, next, this.overridesText);
    this.overrides = next;
    this.merged = null;
  }

  // An earlier overrides file held whole policies: keep only what differs from config.toml, so
  // that its later edits apply again; the policies in force stay the same. The old file is kept.
  private migrate(wholePolicies: Record<string, RawPolicyTable>): void {
    this.overrides = migrateWholePolicies(wholePolicies, this.overrides.removed, this.file);
    this.merged = null;
    try {
      const aside = preserveEarlierFormat(this.paths.overrides);
      this.overridesText = saveOverridesSync(this.paths.overrides, this.overrides);
      console.error(
        `selfheal: ${this.paths.overrides} held whole policies (the earlier format): kept only the keys that differ from config.toml, ` +
          `so that config.toml's other keys apply again; the earlier file is ${aside}`,
      );
    } catch (error) {
      console.error(`selfheal: cannot rewrite ${this.paths.overrides} in the current format (it is read as it is): ${(error as Error).message}`);
    }
  }

  private readFile(): { ok: true; file: ParsedConfig } | { ok: false; error: ConfigError } {
    try {
      const read = readConfigFile(this.paths.config);
      if (read === null) return { ok: true, file: parseConfigTables("", this.paths.config) };
      this.keepLastGood(read.text);
      return { ok: true, file: read.parsed };
    } catch (error) {
      if (error instanceof ConfigError) return { ok: false, error };
      throw error;
    }
  }

  private keepLastGood(text: string): void {
    try {
      writeFileAtomicSync(this.paths.lastGood, text);
    } catch (error) {
      console.error(`selfheal: cannot keep a copy of the good config: ${(error as Error).message}`);
    }
  }

  // The config that last loaded, for a daemon started on a broken config.toml; null when there is none.
  private readLastGood(): ParsedConfig | null {
    try {
      return readConfigFile(this.paths.lastGood)?.parsed ?? null;
    } catch {
      return null;
    }
  }
}

// An override left out of the merge, said on stderr.
function reportMerge(message: string): void {
  console.error(`selfheal: ${message}`);
}

// A value as config.toml would write it, for the notices.
function showValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value) || (value !== null && typeof value === "object")) return JSON.stringify(value);
  return String(value);
}
