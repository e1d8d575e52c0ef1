// The validated, normalised form of one [process.NAME] table and of [settings].
// The config loader (schema.ts) produces these; the engine consumes them.

export type RestartMode = "on-failure" | "always" | "never";
export type ViolationAction = "restart" | "kill" | "notify";
export type LimitScope = "tree" | "process";

export interface CooldownPolicy {
  /** Restarts allowed within `windowSec` before the cooldown starts. */
  maxRestarts: number;
  windowSec: number;
  /** How long no restart happens once the cooldown starts. */
  pauseSec: number;
}

export interface Policy {
  name: string;
  /** argv, run without a shell unless the policy itself names one. */
  command: string[];
  /** comm, exe basename, or a /regex/ tested against the whole command line. */
  match: string;
  cpuLimit: number | null;
  memoryLimitBytes: number | null;
  scope: LimitScope;
  sustain: number;
  onViolation: ViolationAction;
  restart: RestartMode;
  autostart: boolean;
  cooldown: CooldownPolicy;
  /** Seconds between SIGTERM and SIGKILL when stopping. */
  stopTimeoutSec: number;
  /** Working directory for the command; null means the user's home. */
  cwd: string | null;
  /** Extra environment for the command. */
  env: Record<string, string>;
}

export interface Settings {
  /** Seconds between scans. */
  intervalSec: number;
}

export interface Config {
  settings: Settings;
  policies: Map<string, Policy>;
}
