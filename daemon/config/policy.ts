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

/** The validated [email] section: where and how alerts are mailed. */
export interface EmailSettings {
  /** False keeps the section but sends nothing (the original's `enabled=false`). */
  enabled: boolean;
  smtpHost: string;
  smtpPort: number;
  from: string;
  /** One or more recipients. */
  to: string[];
  /** SMTP login; null means no authentication. */
  username: string | null;
  password: string | null;
  /** TLS from the first byte (SMTPS, usually port 465). */
  implicitTls: boolean;
  /** true: require STARTTLS; false: never upgrade; null: upgrade when the server offers it. */
  starttls: boolean | null;
  /** Minimum minutes between two mails of the same kind for the same process. */
  rateLimitMinutes: number;
}

export interface Config {
  settings: Settings;
  policies: Map<string, Policy>;
  /** null when config.toml has no [email] section. */
  email: EmailSettings | null;
}
