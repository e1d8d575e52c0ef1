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
  /** Consecutive scans over the CPU limit before acting. */
  sustain: number;
  /** Seconds over the memory limit before acting, measured between scans too. */
  memorySustainSec: number;
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
  /** This policy's own anomaly thresholds; what is left out comes from [anomaly]. Absent: all from [anomaly]. */
  anomaly?: AnomalyOverrides;
  /** The desktop app the policy watches (`app`); absent for a policy of a plain command. */
  app?: PolicyApp;
}

/** A policy's app, for the views: its desktop-file id, name and icon. */
export interface PolicyApp {
  /** The desktop-file id with its .desktop suffix. */
  id: string;
  /** The app's Name in the daemon's language. */
  name: string;
  /** A theme icon name or an absolute path; "" when the app has none. */
  icon: string;
}

/** What a detector does once an anomaly is confirmed. */
export type AnomalyAction = "notify" | "restart" | "kill";

/** [anomaly.leak]: a sustained upward trend of resident memory. */
export interface LeakSettings {
  enabled: boolean;
  action: AnomalyAction;
  /** The longest span looked back over, seconds. */
  windowSec: number;
  /** The shortest span judged, seconds. */
  minDurationSec: number;
  minRateMbPerMin: number;
  minGrowthMb: number;
  /** Least goodness of fit (r²) of the straight line. */
  minR2: number;
}

/** [anomaly.fork_bomb]: too many descendants, or too many new ones per second. */
export interface ForkBombSettings {
  enabled: boolean;
  /** kill: contain the whole tree; restart: contain, then start again; notify: only tell. */
  action: AnomalyAction;
  maxDescendants: number;
  /** New descendants per second; 0 turns the rate check off. */
  maxSpawnRate: number;
}

/** [anomaly.cpu_spike]: far above the process's own moving baseline, sustained. */
export interface CpuSpikeSettings {
  enabled: boolean;
  action: AnomalyAction;
  sigma: number;
  minPercent: number;
  baselineSec: number;
  sustain: number;
  warmup: number;
}

/** Per-policy anomaly thresholds: only the keys the policy sets. */
export interface AnomalyOverrides {
  leak?: Partial<LeakSettings>;
  forkBomb?: Partial<ForkBombSettings>;
  cpuSpike?: Partial<CpuSpikeSettings>;
}

/** The validated [anomaly] section: the detectors' defaults and the global watch. */
export interface AnomalySettings {
  watchAll: boolean;
  watchAllMinRssBytes: number;
  leak: LeakSettings;
  forkBomb: ForkBombSettings;
  cpuSpike: CpuSpikeSettings;
}

/** The validated [zombies] section. */
export interface ZombieSettings {
  /** Clean up on a schedule (CleanupZombies works either way). */
  cleanup: boolean;
  cleanupIntervalSec: number;
  /** Zombies are announced, and touched by a scheduled cleanup, once seen for at least this long. */
  minAgeSec: number;
  reapWaitSec: number;
  /** End a parent that does not reap after SIGCHLD (never a protected one). */
  killParents: boolean;
  /** Program names (comm) whose zombies' parents are never ended, beside the built-in ones. */
  protectedNames: string[];
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
  /** A command (argv, run without a shell) whose first line of output is the password, e.g. `secret-tool lookup ...`. */
  passwordCommand: string[] | null;
  /** TLS from the first byte (SMTPS, usually port 465). */
  implicitTls: boolean;
  /** true: require STARTTLS; false: never upgrade; null: upgrade when the server offers it. */
  starttls: boolean | null;
  /** Minimum minutes between two mails of the same kind for the same process. */
  rateLimitMinutes: number;
}

/** The validated [notifications] section. */
export interface NotificationSettings {
  /** Show alerts through the desktop's notification server (org.freedesktop.Notifications). */
  desktop: boolean;
}

/** The validated [metrics] section: where the Prometheus metrics go. */
export interface MetricsSettings {
  /** Serve /metrics over HTTP here; null when only a textfile is written. */
  listen: { host: string; port: number } | null;
  /** Write the metrics to this file after every scan (node_exporter's textfile collector); null for none. */
  textfile: string | null;
}

export interface Config {
  settings: Settings;
  policies: Map<string, Policy>;
  /** null when config.toml has no [email] section. */
  email: EmailSettings | null;
  /** [anomaly]; absent means every default. */
  anomaly?: AnomalySettings;
  /** [zombies]; absent means every default. */
  zombies?: ZombieSettings;
  /** [notifications]; absent means every default. */
  notifications?: NotificationSettings;
  /** [metrics]; absent (or null) means no metrics, and prom-client is never loaded. */
  metrics?: MetricsSettings | null;
}
