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
} as const;

/** The smallest and largest value each numeric key accepts. */
export const LIMITS = {
  interval: { min: 0.05, max: 3600 },
  /** Percent of one core; 100 × 1024 allows a 1024-core machine. */
  cpu_limit: { max: 100 * 1024 },
  /** 16 TiB expressed in MB. */
  memory_limit_mb: { max: 16 * 1024 * 1024 },
  sustain: { min: 1, max: 1000 },
  max_restarts: { min: 1, max: 1000 },
  /** Seconds; one day. */
  window: { max: 86_400 },
  pause: { max: 86_400 },
  stop_timeout: { min: 0, max: 600 },
  smtp_port: { min: 1, max: 65_535 },
  /** Minutes; one week. */
  rate_limit_minutes: { min: 0, max: 10_080 },
} as const;

/** Allowed process names: what a [process.NAME] header, D-Bus and the CLI accept. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
