// The Processes view: one row per policy, with what a person needs to see and the actions that
// make sense in the process's state.

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import { formatBytes, formatDuration, formatPercent } from "./format.js";
import type { ProcessRecord } from "./records.js";

/** How a state reads at a glance; the views map it to a style class. */
export type Tone = "ok" | "warning" | "error" | "inactive";

export interface ProcessRow {
  /** Stable across refreshes, so rows are updated in place rather than rebuilt. */
  key: string;
  name: string;
  /** What the row is titled: the app's name for an `app` policy, else the policy's name. */
  title: string;
  /** The app's icon (a theme name or an absolute path); "" for a row without one. */
  icon: string;
  state: string;
  stateText: string;
  tone: Tone;
  pidText: string;
  cpuText: string;
  memoryText: string;
  restartsText: string;
  /** Empty when the process is not held back. */
  cooldownText: string;
  overCpuLimit: boolean;
  overMemoryLimit: boolean;
  canStart: boolean;
  canStop: boolean;
  canRestart: boolean;
  canResetCooldown: boolean;
}

const STATE_TONES: Record<string, Tone> = {
  running: "ok",
  backoff: "warning",
  cooldown: "error",
  crashed: "error",
  stopped: "inactive",
  exited: "inactive",
};

// The word a person reads for a daemon state (an unknown state is shown as the daemon said it).
export function stateText(state: string, t: Translator): string {
  switch (state) {
    case "running":
      return t.gettext("Running");
    case "stopped":
      return t.gettext("Stopped");
    case "crashed":
      return t.gettext("Crashed");
    case "backoff":
      return t.gettext("Restarting");
    case "cooldown":
      return t.gettext("Cooling down");
    case "exited":
      return t.gettext("Exited");
    default:
      return state === "" ? t.gettext("Unknown") : state;
  }
}

export function stateTone(state: string): Tone {
  return STATE_TONES[state] ?? "inactive";
}

// "3.4%", or "95% / 80%" with the limit when the policy sets one.
function withLimit(value: string, limit: string | null, t: Translator): string {
  return limit === null ? value : interpolate(t.gettext("{value} / {limit}"), { value, limit });
}

export function processRow(record: ProcessRecord, t: Translator): ProcessRow {
  const running = record.pid > 0;
  const inCooldown = record.state === "cooldown" || record.cooldownRemaining > 0;
  return {
    key: record.name,
    name: record.name,
    title: record.appName !== undefined && record.appName !== "" ? record.appName : record.name,
    icon: record.appId !== undefined && record.appId !== "" ? (record.appIcon ?? "") : "",
    state: record.state,
    stateText: stateText(record.state, t),
    tone: stateTone(record.state),
    pidText: running ? String(record.pid) : "—",
    cpuText: running
      ? withLimit(formatPercent(record.cpuPercent, t), record.cpuLimit > 0 ? formatPercent(record.cpuLimit, t) : null, t)
      : "—",
    memoryText: running
      ? withLimit(
          formatBytes(record.rssBytes, t),
          record.memoryLimitBytes > 0 ? formatBytes(record.memoryLimitBytes, t) : null,
          t,
        )
      : "—",
    restartsText: String(record.restarts),
    cooldownText: inCooldown && record.cooldownRemaining > 0 ? formatDuration(record.cooldownRemaining, t) : "",
    overCpuLimit: running && record.cpuLimit > 0 && record.cpuPercent > record.cpuLimit,
    overMemoryLimit: running && record.memoryLimitBytes > 0 && record.rssBytes > record.memoryLimitBytes,
    canStart: !running,
    canStop: running || record.state === "backoff",
    canRestart: running,
    canResetCooldown: inCooldown,
  };
}

// Rows sorted by name, so a process keeps its place while its state changes.
export function processRows(records: readonly ProcessRecord[], t: Translator): ProcessRow[] {
  return [...records].sort((a, b) => a.name.localeCompare(b.name)).map((record) => processRow(record, t));
}
