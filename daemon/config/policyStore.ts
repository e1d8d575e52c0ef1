// The daemon's effective configuration: config.toml (the last good version of
// it) merged with the overrides set over D-Bus. Edits are validated before
// they replace anything, so a bad edit never takes the good config away.
import { readFileSync } from "node:fs";
import type { Config, Policy } from "./policy.js";
import { ConfigError, parseConfig } from "./load.js";
import { loadOverrides, mergeConfig, saveOverrides, withPolicyRemoved, withPolicySet, type Overrides } from "./overrides.js";
import { validatePolicyObject } from "./load.js";
import { writeFileAtomicSync } from "../state/atomic.js";

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

export class PolicyStore {
  private fileConfig: Config;
  private overrides: Overrides;
  /** Set while the config.toml on disk is one that was rejected. */
  private fileRejection: FileRejection | null = null;
  /** Problems found while starting (a broken config.toml or overrides file), for the event log. */
  readonly startupProblems: ConfigError[] = [];

  constructor(private readonly paths: PolicyStorePaths) {
    const loaded = loadOverrides(paths.overrides);
    this.overrides = loaded.overrides;
    if (loaded.error) this.startupProblems.push(loaded.error);
    const first = this.readFile();
    if (first.ok) {
      this.fileConfig = first.config;
    } else {
      this.startupProblems.push(first.error);
      const lastGood = this.readLastGood();
      this.fileConfig = lastGood ?? parseConfig("", this.paths.config);
      this.fileRejection = { error: first.error, lastGoodInForce: lastGood !== null };
    }
  }

  /** Why the config.toml on disk is not the one in force, or null when it is. */
  get rejection(): FileRejection | null {
    return this.fileRejection;
  }

  get config(): Config {
    return mergeConfig(this.fileConfig, this.overrides);
  }

  // Re-read config.toml after an edit; on error the previous policies stay in force.
  reload(): ReloadResult {
    const result = this.readFile();
    if (!result.ok) {
      // An earlier rejection kept the last good version (or none) in force: that has not changed.
      this.fileRejection = { error: result.error, lastGoodInForce: this.fileRejection?.lastGoodInForce ?? true };
      return result;
    }
    this.fileConfig = result.config;
    this.fileRejection = null;
    return { ok: true, config: this.config };
  }

  // Validate and persist one policy from D-Bus; throws ConfigError naming the key.
  async setPolicy(name: string, raw: Record<string, unknown>): Promise<Config> {
    const policy: Policy = validatePolicyObject(name, raw, "SetPolicy");
    const next = withPolicySet(this.overrides, policy);
    await saveOverrides(this.paths.overrides, next);
    this.overrides = next;
    return this.config;
  }

  // Remove a policy (from the file's or the overrides') and persist that.
  async removePolicy(name: string): Promise<Config> {
    const next = withPolicyRemoved(this.overrides, name);
    await saveOverrides(this.paths.overrides, next);
    this.overrides = next;
    return this.config;
  }

  private readFile(): ReloadResult {
    let text: string;
    try {
      text = readFileSync(this.paths.config, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { ok: true, config: parseConfig("", this.paths.config) };
      return {
        ok: false,
        error: new ConfigError([{ file: this.paths.config, line: null, column: null, key: "", message: `cannot read: ${(error as Error).message}` }]),
      };
    }
    try {
      const config = parseConfig(text, this.paths.config);
      this.keepLastGood(text);
      return { ok: true, config };
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
  private readLastGood(): Config | null {
    try {
      return parseConfig(readFileSync(this.paths.lastGood, "utf8"), this.paths.lastGood);
    } catch {
      return null;
    }
  }
}
