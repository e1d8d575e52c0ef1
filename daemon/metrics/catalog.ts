// Every metric selfheal exports: its name (Prometheus conventions: selfheal_
// prefix, base units, _total counters), type, help text and labels. The
// registry is built from this table; the labels are bounded: `name` is a
// policy (at most SIZE_LIMITS.policies of them), never a PID; `app`, the
// desktop-file id of a policy that watches an app, is on its series only.

export type MetricType = "gauge" | "counter" | "histogram";

export interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  labels: readonly string[];
}

// One row of the table.
function metric(name: string, type: MetricType, help: string, labels: readonly string[] = []): MetricSpec {
  return { name, type, help, labels };
}

export const METRICS = {
  up: metric("selfheal_up", "gauge", "1 when the policy's program is running, 0 when it is not.", ["name", "app"]),
  state: metric(
    "selfheal_state",
    "gauge",
    "1 for the state the policy's program is in, 0 for the others (running, stopped, crashed, backoff, cooldown, exited).",
    ["name", "app", "state"],
  ),
  restarts: metric("selfheal_restarts_total", "counter", "Restarts of the policy's program done by the daemon since the daemon started.", ["name", "app"]),
  crashes: metric(
    "selfheal_crashes_total",
    "counter",
    'Crashes of the policy\'s program, by the signal that ended it ("none": a non-zero exit code; "unknown": an adopted program, whose end status cannot be known).',
    ["name", "app", "signal"],
  ),
  cpuSeconds: metric("selfheal_cpu_seconds_total", "counter", "CPU time used by the policy's program (its main process) while the daemon watched it, seconds.", ["name", "app"]),
  cpuPercent: metric("selfheal_cpu_percent", "gauge", "CPU use of the policy's program at the last scan, percent of one core (process or whole tree, as its limit is checked).", ["name", "app"]),
  residentBytes: metric("selfheal_resident_memory_bytes", "gauge", "Resident memory of the policy's program at the last scan (process or whole tree, as its limit is checked).", ["name", "app"]),
  memoryLimitBytes: metric("selfheal_memory_limit_bytes", "gauge", "The policy's memory limit; only policies that have one.", ["name", "app"]),
  cpuLimitPercent: metric("selfheal_cpu_limit_percent", "gauge", "The policy's CPU limit, percent of one core; only policies that have one.", ["name", "app"]),
  cooldownActive: metric("selfheal_cooldown_active", "gauge", "1 while the policy's restarts are paused by its cooldown (a crash loop), 0 otherwise.", ["name", "app"]),
  cooldownRemaining: metric("selfheal_cooldown_remaining_seconds", "gauge", "Seconds until the policy's cooldown ends (0 when none is in force).", ["name", "app"]),
  anomalies: metric(
    "selfheal_anomalies_total",
    "counter",
    'Anomalies detected, by kind (memory_leak, fork_bomb, cpu_spike); name is "" for a process outside the policies (the global watch).',
    ["name", "app", "kind"],
  ),
  policies: metric("selfheal_policies", "gauge", "Policies in force."),
  zombies: metric("selfheal_zombies", "gauge", "Zombie processes of the user at the last scan."),
  zombiesReaped: metric("selfheal_zombies_reaped_total", "counter", "Zombie processes reaped by cleanups."),
  notificationsSent: metric("selfheal_notifications_sent_total", "counter", "Alerts sent, by channel (email, desktop).", ["channel"]),
  notificationsSuppressed: metric(
    "selfheal_notifications_suppressed_total",
    "counter",
    "Alerts held back by the rate limit (summarised in a digest), by channel (email, desktop).",
    ["channel"],
  ),
  scanDuration: metric("selfheal_scan_duration_seconds", "histogram", "Time to read the process table (/proc) once, seconds."),
  processesScanned: metric("selfheal_processes_scanned", "gauge", "Processes in the last scan of /proc."),
  busCalls: metric("selfheal_dbus_calls_total", "counter", "D-Bus method calls answered, by method.", ["method"]),
  eventLogWriteErrors: metric("selfheal_event_log_write_errors_total", "counter", "Events that could not be written to the event log (full disk, read-only folder)."),
  buildInfo: metric("selfheal_build_info", "gauge", "Always 1; the daemon's version is the label.", ["version"]),
} as const satisfies Record<string, MetricSpec>;

/** prom-client's default process and Node.js metrics carry this prefix too (so they never clash with node_exporter's own). */
export const DEFAULT_METRICS_PREFIX = "selfheal_";

/** Buckets of the scan duration histogram, seconds: a scan takes about a millisecond on an idle desktop. */
export const SCAN_DURATION_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The states selfheal_state has a series for. */
export const UNIT_STATES = ["running", "stopped", "crashed", "backoff", "cooldown", "exited"] as const;
