// The contract's a{sv} records, built from what the engine and its monitors
// know. Every key has one fixed D-Bus type, so scripts can rely on it.
import type { UnitView } from "../engine/engine.js";
import type { PolicyApp } from "../config/policy.js";
import type { EngineEvent } from "../engine/events.js";
import type { AnomalyEvent } from "../anomaly/journal.js";
import type { ZombieInfo } from "../zombies/detect.js";
import { v, variantOf, type Variant, type VariantDict } from "./variants.js";

const MS_PER_SEC = 1000;

// One policy's process: the contract's keys, and a few more (started_usec, restarts_in_window, cooldown_until_usec,
// protected_match: why nothing was adopted when the match names only processes selfheal never touches; app_id,
// app_name, app_icon: the desktop app of an `app` policy, for the views, all "" for a plain command).
export function processRecord(view: UnitView, app?: PolicyApp): VariantDict {
  return {
    name: v.s(view.name),
    pid: v.u(view.pid),
    state: v.s(view.state),
    cpu_percent: v.d(view.cpuPercent),
    rss_bytes: v.t(view.rssBytes),
    cpu_limit: v.d(view.cpuLimit ?? 0),
    memory_limit_bytes: v.t(view.memoryLimitBytes ?? 0),
    restarts: v.u(view.restarts),
    cooldown_remaining: v.d(Math.max(0, view.cooldownRemainingSec)),
    managed: v.b(view.managed),
    restarts_in_window: v.u(view.restartsInWindow),
    cooldown_until_usec: v.usec(view.cooldownUntilMs),
    started_usec: v.usec(view.startedAtMs),
    protected_match: v.s(view.protectedMatch),
    app_id: v.s(app?.id ?? ""),
    app_name: v.s(app?.name ?? ""),
    app_icon: v.s(app?.icon ?? ""),
  };
}

// A policy's restart window and cooldown, for GetCooldowns.
export function cooldownRecord(view: UnitView, nowMs: number): VariantDict {
  const active = view.cooldownUntilMs > nowMs;
  return {
    name: v.s(view.name),
    restarts_in_window: v.u(view.restartsInWindow),
    cooldown_remaining: v.d(active ? (view.cooldownUntilMs - nowMs) / MS_PER_SEC : 0),
    until_usec: v.usec(active ? view.cooldownUntilMs : 0),
    state: v.s(view.state),
  };
}

// One recorded anomaly, for ListAnomalies; the detector's figures are under `figures` (a{sd}).
export function anomalyRecord(event: AnomalyEvent): VariantDict {
  return {
    time_usec: v.usec(event.timeMs),
    process: v.s(event.name),
    pid: v.u(event.pid),
    type: v.s(event.type),
    detail: v.s(event.detail),
    action: v.s(event.action),
    figures: v.doubleDict(event.figures),
  };
}

// AnomalyDetected's details: detail, action and time_usec, with the detector's figures beside them as d.
export function anomalyDetails(event: AnomalyEvent): VariantDict {
  const details: VariantDict = {};
  for (const [key, value] of Object.entries(event.figures)) details[key] = v.d(value);
  return { ...details, detail: v.s(event.detail), action: v.s(event.action), time_usec: v.usec(event.timeMs) };
}

/** What the daemon knows of a zombie's parent: what it does with SIGCHLD, and why it would not end it ("" when it would). */
export interface ZombieParentFacts {
  sigchld: string;
  protectedReason: string;
}

export function zombieRecord(zombie: ZombieInfo, parent?: ZombieParentFacts): VariantDict {
  return {
    pid: v.u(zombie.pid),
    ppid: v.u(zombie.ppid),
    name: v.s(zombie.name),
    parent_name: v.s(zombie.parentName),
    age: v.d(zombie.ageSec),
    uid: v.u(zombie.uid),
    ...(parent === undefined ? {} : { parent_sigchld: v.s(parent.sigchld), parent_protected: v.s(parent.protectedReason) }),
  };
}

/** How each event field is typed on the bus (fields not listed get their natural type). */
const EVENT_FIELD_TYPES: Record<string, (value: unknown) => Variant | null> = {
  pid: (value) => (typeof value === "number" ? v.u(value) : null),
  oldPid: (value) => (typeof value === "number" ? v.u(value) : null),
  newPid: (value) => (typeof value === "number" ? v.u(value) : null),
  keeperPid: (value) => (typeof value === "number" ? v.u(value) : null),
  exitCode: (value) => (typeof value === "number" ? v.i(value) : null),
  signal: (value) => v.s(typeof value === "string" ? value : ""),
  restarts: (value) => (typeof value === "number" ? v.u(value) : null),
  count: (value) => (typeof value === "number" ? v.u(value) : null),
  reaped: (value) => (typeof value === "number" ? v.u(value) : null),
  remaining: (value) => (typeof value === "number" ? v.u(value) : null),
  seconds: (value) => (typeof value === "number" ? v.d(value) : null),
  value: (value) => (typeof value === "number" ? v.d(value) : null),
  limit: (value) => (typeof value === "number" ? v.d(value) : null),
  untilMs: (value) => (typeof value === "number" ? v.usec(value) : null),
  newPids: (value) => (Array.isArray(value) ? v.au(value.filter((pid): pid is number => typeof pid === "number")) : null),
  figures: (value) =>
    value !== null && typeof value === "object"
      ? v.doubleDict(Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === "number")))
      : null,
};

/** Event fields that become the record's common keys rather than their own. */
const COMMON_FIELDS = new Set(["kind", "timeMs", "message", "name"]);

// camelCase to the records' snake_case; untilMs becomes until_usec.
function snakeKey(key: string): string {
  if (key === "untilMs") return "until_usec";
  return key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

// One event of the history (or just emitted): time_usec, kind, process, pid, message, and the event's own fields.
export function eventRecord(event: EngineEvent): VariantDict {
  const fields = event as unknown as Record<string, unknown>;
  const pid = typeof fields.pid === "number" ? fields.pid : typeof fields.newPid === "number" ? fields.newPid : 0;
  const record: VariantDict = {
    time_usec: v.usec(typeof event.timeMs === "number" ? event.timeMs : 0),
    kind: v.s(String(event.kind)),
    process: v.s(typeof fields.name === "string" ? fields.name : ""),
    pid: v.u(pid),
    message: v.s(typeof event.message === "string" ? event.message : ""),
  };
  for (const [key, value] of Object.entries(fields)) {
    if (COMMON_FIELDS.has(key) || key === "pid" || value === undefined) continue;
    const typed = EVENT_FIELD_TYPES[key];
    const variant = typed ? typed(value) : value === null ? null : variantOf(value);
    if (variant !== null) record[snakeKey(key)] = variant;
  }
  return record;
}
