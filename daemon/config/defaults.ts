// Default values and allowed ranges of config.toml, keyed as the user writes them.
// The schema, the importer and the documentation all read them from here.

/** Bytes in one MB of `memory_limit_mb` (a mebibyte, as `ps` and the original count). */
export const BYTES_PER_MB = 1024 * 1024;

/** What a key means when config.toml leaves it out. */
export const DEFAULTS = {
  settings: {
    interval: 1.0,
  },
  process: {
    scope: "tree",
    sustain: 2,
    /** Seconds a memory breach must last, measured by the looks between scans (memory seldom bursts and comes back). */
    memory_sustain: 0.05,
    on_violation: "restart",
    restart: "on-failure",
    autostart: false,
    cooldown: { max_restarts: 5, window: 60, pause: 120 },
    stop_timeout: 5,
  },
  email: {
    enabled: true,
    rate_limit_minutes: 15,
    /** The port whose default is TLS from the first byte rather than STARTTLS. */
    implicit_tls_port: 465,
  },
  /** [anomaly]: the detectors' defaults; each [process.NAME] may override them in its own sub-tables. */
  anomaly: {
    /** Apply the leak and fork-bomb detectors to every process of the user, not only to policies. */
    watch_all: false,
    /** Under watch_all, processes smaller than this are not followed for leaks (keeps the watch cheap). */
    watch_all_min_rss_mb: 50,
    leak: {
      enabled: true,
      action: "notify",
      /** The longest look-back, seconds. */
      window: 120,
      /** The shortest span judged, seconds: how long growth must last before it is a leak. */
      min_duration: 8,
      min_rate_mb_per_min: 10,
      /** The least growth over the span judged, MB. */
      min_growth_mb: 20,
      /** Goodness of fit of the straight line (r²). */
      min_r2: 0.8,
    },
    fork_bomb: {
      enabled: true,
      action: "kill",
      /** The original monitor's default: 50 children. */
      max_descendants: 50,
      /** New descendants per second seen between two scans; 0 turns the rate check off. */
      max_spawn_rate: 100,
    },
    cpu_spike: {
      enabled: true,
      action: "notify",
      /** Standard deviations above the baseline. */
      sigma: 3,
      /** A spike is at least this much CPU, percent of one core, whatever the baseline. */
      min_percent: 50,
      /** Time constant of the moving baseline, seconds. */
      baseline: 60,
      /** Consecutive scans above the threshold before it counts. */
      sustain: 10,
      /** Scans of baseline needed before the detector judges at all. */
      warmup: 10,
    },
  },
  /** [zombies]: detection is always on; cleanup on a schedule only when enabled. */
  zombies: {
    cleanup: false,
    cleanup_interval: 300,
    /** Zombies younger than this (seconds since first seen) are not announced, and a scheduled cleanup leaves them alone. */
    min_age: 60,
    /** Seconds to wait after SIGCHLD (and after ending a parent) for the zombies to be reaped. */
    reap_wait: 1,
    kill_parents: false,
    protected: [] as readonly string[],
  },
  /** [notifications]: alerts on the desktop (mail is [email]). */
  notifications: {
    desktop: true,
  },
  /** [metrics]: absent means no metrics at all; present without `listen` or `textfile`, it serves on this loopback address. */
  metrics: {
    listen: "127.0.0.1:9464",
  },
} as const;

/** The smallest and largest value each numeric key accepts. */
export const LIMITS = {
  interval: { min: 0.05, max: 3600 },
  /** Percent of one core; 100 × 1024 allows a 1024-core machine. */
  cpu_limit: { max: 100 * 1024 },
  /** 16 TiB expressed in MB. */
  memory_limit_mb: { max: 16 * 1024 * 1024 },
  sustain: { min: 1, max: 1000 },
  /** Seconds; one hour. */
  memory_sustain: { min: 0, max: 3600 },
  max_restarts: { min: 1, max: 1000 },
  /** Seconds; one day. */
  window: { max: 86_400 },
  pause: { max: 86_400 },
  stop_timeout: { min: 0, max: 600 },
  smtp_port: { min: 1, max: 65_535 },
  /** Minutes; one week. */
  rate_limit_minutes: { min: 0, max: 10_080 },
  watch_all_min_rss_mb: { min: 0, max: 16 * 1024 * 1024 },
  /** Seconds; one day. */
  leak_window: { min: 2, max: 86_400 },
  min_duration: { min: 1, max: 86_400 },
  min_rate_mb_per_min: { min: 0, max: 1_000_000 },
  min_growth_mb: { min: 0, max: 16 * 1024 * 1024 },
  min_r2: { min: 0, max: 1 },
  max_descendants: { min: 1, max: 1_000_000 },
  max_spawn_rate: { min: 0, max: 1_000_000 },
  sigma: { max: 100 },
  min_percent: { min: 0, max: 100 * 1024 },
  baseline: { min: 1, max: 86_400 },
  spike_sustain: { min: 1, max: 1000 },
  warmup: { min: 1, max: 1000 },
  cleanup_interval: { min: 1, max: 86_400 },
  min_age: { min: 0, max: 86_400 },
  reap_wait: { min: 0, max: 60 },
  metrics_port: { min: 1, max: 65_535 },
} as const;

/** Allowed process names: what a [process.NAME] header, D-Bus and the CLI accept. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;

/**
 * Caps on the size of what config.toml, overrides.json and D-Bus callers may
 * give, so that any input costs bounded time and memory. A program's
 * arguments and environment together stay far below the kernel's ARG_MAX
 * (2 MiB under the usual 8 MiB stack limit), so a policy that validates can be started.
 */
export const SIZE_LIMITS = {
  /** config.toml, and overrides.json (the policies set over D-Bus), checked before either is read. */
  config_bytes: 1024 * 1024,
  /** Policies in force at once. */
  policies: 256,
  /** One policy, as JSON. */
  policy_bytes: 256 * 1024,
  /** command: arguments, and their bytes in all, each with its terminating NUL (as the kernel counts them). */
  arguments: 1024,
  argument_bytes: 128 * 1024,
  /** env: variables, the length of a name, and the bytes of all NAME=value entries with their NULs. */
  env_vars: 256,
  env_name_length: 255,
  env_bytes: 64 * 1024,
  /** cwd: the kernel's PATH_MAX. */
  path_bytes: 4096,
} as const;

/** POSIX environment variable names: letters, digits and _, not starting with a digit. */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
