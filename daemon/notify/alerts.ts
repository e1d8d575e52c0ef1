// Which engine events are worth telling the user about, and how they read:
// one table of alert kinds (mail subject, desktop urgency, plural for digests)
// and one function turning an event into an Alert both notifiers use.
import type { EngineEvent } from "../engine/events.js";
import { plural } from "../words.js";

/** The original monitor's subject prefix, kept so existing mail filters still match. */
export const SUBJECT_PREFIX = "[Self-Healing Monitor]";

/** The urgency levels of org.freedesktop.Notifications (the byte of the "urgency" hint). */
export type Urgency = "low" | "normal" | "critical";

export interface AlertKindInfo {
  /** The words after the prefix: `[Self-Healing Monitor] Process Crash: gedit`. */
  title: string;
  /** How a digest counts them: "1 more crash", "3 more crashes of gedit were suppressed". */
  one: string;
  plural: string;
  urgency: Urgency;
  /** The event's message already ends with what selfheal did ("…; restarting it"): a notification says it once. */
  messageSaysAction: boolean;
}

/** Every kind of alert selfheal sends, in one place. */
export const ALERT_KINDS = {
  crash: { title: "Process Crash", one: "crash", plural: "crashes", urgency: "normal", messageSaysAction: true },
  "restart-loop": { title: "Restart Loop", one: "restart loop", plural: "restart loops", urgency: "critical", messageSaysAction: true },
  "start-failure": { title: "Start Failure", one: "failed start", plural: "failed starts", urgency: "normal", messageSaysAction: false },
  "cpu-limit": { title: "CPU Limit Exceeded", one: "CPU limit violation", plural: "CPU limit violations", urgency: "normal", messageSaysAction: true },
  "memory-limit": { title: "Memory Limit Exceeded", one: "memory limit violation", plural: "memory limit violations", urgency: "normal", messageSaysAction: true },
  "memory-leak": { title: "Memory Leak Detected", one: "memory leak alert", plural: "memory leak alerts", urgency: "normal", messageSaysAction: true },
  "fork-bomb": { title: "Fork Bomb Detected", one: "fork bomb alert", plural: "fork bomb alerts", urgency: "critical", messageSaysAction: true },
  "cpu-spike": { title: "CPU Spike Detected", one: "CPU spike alert", plural: "CPU spike alerts", urgency: "normal", messageSaysAction: true },
  zombies: { title: "Zombie Processes", one: "zombie alert", plural: "zombie alerts", urgency: "low", messageSaysAction: false },
} as const satisfies Record<string, AlertKindInfo>;

export type AlertKind = keyof typeof ALERT_KINDS;

/**
 * Zombies are told about only from this many at once: a few come and go on any
 * desktop (a parent reaps its child a moment later) and hold no memory or CPU.
 */
export const ZOMBIE_ALERT_MIN_COUNT = 5;

/** The name zombie alerts are filed under (they belong to no one policy). */
export const ZOMBIES_SUBJECT = "zombies";

/** One thing worth telling: what, about whom, when, and what selfheal did. */
export interface Alert {
  kind: AlertKind;
  /** The process (policy name or comm); the rate limit counts per (name, kind). */
  name: string;
  timeMs: number;
  pid: number | null;
  /** The event's own sentence, as in the event log. */
  message: string;
  /** What selfheal did about it, for people. */
  action: string;
  /** Further facts worth a line each ("Signal: SIGSEGV"). */
  facts: Array<[string, string]>;
}

// The key the rate limit counts under.
export function alertKey(alert: Pick<Alert, "name" | "kind">): string {
  return `${alert.kind}\u0000${alert.name}`;
}

// The mail subject of an alert: the original's form.
export function subjectOf(alert: Pick<Alert, "name" | "kind">): string {
  return `${SUBJECT_PREFIX} ${ALERT_KINDS[alert.kind].title}: ${alert.name}`;
}

// What a crash report says was done.
function crashAction(willRestart: boolean): string {
  return willRestart ? "restarting it (after a short backoff if it keeps crashing)" : "not restarting it (its restart policy says so, or it is cooling down)";
}

// What a limit violation's action was, in words.
function violationAction(action: "restart" | "kill" | "notify"): string {
  if (action === "restart") return "restarted it";
  if (action === "kill") return "ended it (it is not restarted)";
  return "nothing but this notice (on_violation = \"notify\")";
}

const ANOMALY_KINDS = { memory_leak: "memory-leak", fork_bomb: "fork-bomb", cpu_spike: "cpu-spike" } as const;

// Turn an engine event into an alert, or null for events nobody needs to be told about.
export function alertOf(event: EngineEvent): Alert | null {
  const base = { timeMs: event.timeMs, message: event.message };
  switch (event.kind) {
    case "crashed": {
      const how = event.signal ? `killed by ${event.signal}` : event.exitCode !== null ? `exit code ${event.exitCode}` : "unknown";
      return { ...base, kind: "crash", name: event.name, pid: event.pid, action: crashAction(event.willRestart), facts: [["How it ended", how]] };
    }
    case "cooldown-started":
      return {
        ...base,
        kind: "restart-loop",
        name: event.name,
        pid: null,
        action: `stopped restarting it for ${event.seconds} s, until ${formatTime(event.untilMs)}, after ${plural(event.restarts, "restart", "restarts")}`,
        facts: [["Restarts", String(event.restarts)]],
      };
    case "start-failed":
      return { ...base, kind: "start-failure", name: event.name, pid: null, action: "tries again later unless its restart policy is \"never\"", facts: [["Error", event.error]] };
    case "violation": {
      const unit = event.resource === "cpu" ? "%" : " MB";
      const scale = event.resource === "cpu" ? 1 : 1024 * 1024;
      const figure = (value: number): string => `${(value / scale).toFixed(1)}${unit}`;
      return {
        ...base,
        kind: event.resource === "cpu" ? "cpu-limit" : "memory-limit",
        name: event.name,
        pid: event.pid,
        action: violationAction(event.action),
        facts: [
          ["Measured", figure(event.value)],
          ["Limit", figure(event.limit)],
        ],
      };
    }
    case "anomaly":
      return { ...base, kind: ANOMALY_KINDS[event.type], name: event.name, pid: event.pid, action: event.action, facts: [["Seen", event.detail]] };
    case "zombies-detected":
      if (event.newPids.length === 0 || event.count < ZOMBIE_ALERT_MIN_COUNT) return null;
      return {
        ...base,
        kind: "zombies",
        name: ZOMBIES_SUBJECT,
        pid: null,
        action: "nothing yet: zombies hold no memory or CPU; `selfheal zombies` or the [zombies] cleanup can reap them",
        facts: [
          ["Zombies", String(event.count)],
          ["New PIDs", event.newPids.slice(0, 20).join(", ")],
        ],
      };
    default:
      return null;
  }
}

// A timestamp for people: local time with its UTC offset.
export function formatTime(ms: number): string {
  const date = new Date(ms);
  const pad = (n: number): string => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}
