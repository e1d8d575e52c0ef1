// The daemon's records (a{sv} dictionaries, already unpacked to plain values) as typed objects.
// Missing or ill-typed keys fall back to empty values, so an older or newer daemon never breaks
// the menu.

export type Dict = Record<string, unknown>;

export type ProcessState = "running" | "stopped" | "crashed" | "backoff" | "cooldown" | "exited";
export type Health = "ok" | "degraded" | "critical";
export type AnomalyType = "memory_leak" | "fork_bomb" | "cpu_spike";

export interface ProcessRecord {
  name: string;
  /** 0 when not running. */
  pid: number;
  /** One of ProcessState, or a state this version does not know yet. */
  state: string;
  cpuPercent: number;
  rssBytes: number;
  /** 0 when the policy sets no limit. */
  cpuLimit: number;
  /** 0 when the policy sets no limit. */
  memoryLimitBytes: number;
  restarts: number;
  cooldownRemaining: number;
  managed: boolean;
  /** The desktop-file id of an `app` policy's app; "" (or absent, from an older daemon) for a plain command. */
  appId?: string;
  /** The app's name, as the desktop shows it. */
  appName?: string;
  /** The app's icon: a theme icon name or an absolute path; "" when it has none. */
  appIcon?: string;
}

export interface AnomalyRecord {
  timeUsec: number;
  process: string;
  pid: number;
  type: string;
  detail: string;
  action: string;
  /** The detector's figures (a{sd}): a memory leak's fitted line among them. */
  figures: Record<string, number>;
}

export interface ZombieRecord {
  pid: number;
  ppid: number;
  name: string;
  parentName: string;
  /** Seconds since the zombie was first seen. */
  age: number;
  /** What the parent does with SIGCHLD: default, handled, ignored, blocked, unknown ("" from an older daemon). */
  parentSigchld: string;
  /** Why the daemon would not end the parent; "" when it would. */
  parentProtected: string;
}

export interface CooldownRecord {
  name: string;
  restartsInWindow: number;
  cooldownRemaining: number;
  /** 0 when not in cooldown. */
  untilUsec: number;
}

export interface ManagerStatus {
  version: string;
  /** One of Health, or "" before the daemon has said. */
  health: string;
  watchedCount: number;
  zombieCount: number;
  anomalyCount: number;
  cooldownCount: number;
  /** Empty, or why config.toml was rejected and what is in force instead (the ConfigError property). */
  configError: string;
}

// A finite number from a number or bigint (64-bit D-Bus integers), else 0.
export function numberOf(dict: Dict, key: string): number {
  const value = dict[key];
  if (typeof value === "number") return Number.isFinite(value) ? value : 0;
  if (typeof value === "bigint") return Number(value);
  return 0;
}

export function stringOf(dict: Dict, key: string): string {
  const value = dict[key];
  return typeof value === "string" ? value : "";
}

// The finite numbers of a nested a{sd} dictionary; other values are left out.
export function numbersOf(dict: Dict, key: string): Record<string, number> {
  const value = dict[key];
  const numbers: Record<string, number> = {};
  if (typeof value !== "object" || value === null) return numbers;
  for (const [name, item] of Object.entries(value as Dict)) if (typeof item === "number" && Number.isFinite(item)) numbers[name] = item;
  return numbers;
}

export function booleanOf(dict: Dict, key: string): boolean {
  return dict[key] === true;
}

export function parseProcess(dict: Dict): ProcessRecord {
  return {
    name: stringOf(dict, "name"),
    pid: numberOf(dict, "pid"),
    state: stringOf(dict, "state"),
    cpuPercent: numberOf(dict, "cpu_percent"),
    rssBytes: numberOf(dict, "rss_bytes"),
    cpuLimit: numberOf(dict, "cpu_limit"),
    memoryLimitBytes: numberOf(dict, "memory_limit_bytes"),
    restarts: numberOf(dict, "restarts"),
    cooldownRemaining: numberOf(dict, "cooldown_remaining"),
    managed: booleanOf(dict, "managed"),
    appId: stringOf(dict, "app_id"),
    appName: stringOf(dict, "app_name"),
    appIcon: stringOf(dict, "app_icon"),
  };
}

export function parseAnomaly(dict: Dict): AnomalyRecord {
  return {
    timeUsec: numberOf(dict, "time_usec"),
    process: stringOf(dict, "process"),
    pid: numberOf(dict, "pid"),
    type: stringOf(dict, "type"),
    detail: stringOf(dict, "detail"),
    action: stringOf(dict, "action"),
    figures: numbersOf(dict, "figures"),
  };
}

export function parseZombie(dict: Dict): ZombieRecord {
  return {
    pid: numberOf(dict, "pid"),
    ppid: numberOf(dict, "ppid"),
    name: stringOf(dict, "name"),
    parentName: stringOf(dict, "parent_name"),
    age: numberOf(dict, "age"),
    parentSigchld: stringOf(dict, "parent_sigchld"),
    parentProtected: stringOf(dict, "parent_protected"),
  };
}

export function parseCooldown(dict: Dict): CooldownRecord {
  return {
    name: stringOf(dict, "name"),
    restartsInWindow: numberOf(dict, "restarts_in_window"),
    cooldownRemaining: numberOf(dict, "cooldown_remaining"),
    untilUsec: numberOf(dict, "until_usec"),
  };
}

// The Manager's properties, keyed by their D-Bus names.
export function parseStatus(properties: Dict): ManagerStatus {
  return {
    version: stringOf(properties, "Version"),
    health: stringOf(properties, "Health"),
    watchedCount: numberOf(properties, "WatchedCount"),
    zombieCount: numberOf(properties, "ZombieCount"),
    anomalyCount: numberOf(properties, "AnomalyCount"),
    cooldownCount: numberOf(properties, "CooldownCount"),
    configError: stringOf(properties, "ConfigError"),
  };
}

export const EMPTY_STATUS: ManagerStatus = {
  version: "",
  health: "",
  watchedCount: 0,
  zombieCount: 0,
  anomalyCount: 0,
  cooldownCount: 0,
  configError: "",
};
