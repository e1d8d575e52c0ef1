// The Anomalies view: most recent first, with when, which process, what kind and what was done.

import type { Translator } from "./i18n.js";
import { formatAgo } from "./format.js";
import type { AnomalyRecord } from "./records.js";
import type { LeakFit } from "./trend.js";
import { leakFitOf } from "./trend.js";

export interface AnomalyRow {
  key: string;
  whenText: string;
  process: string;
  pidText: string;
  kindText: string;
  detail: string;
  actionText: string;
  /** A memory leak's fitted line, drawn over its curve; null for other kinds. */
  fit: LeakFit | null;
}

// The name a person reads for an anomaly type (an unknown type is shown as the daemon said it).
export function anomalyKindText(type: string, t: Translator): string {
  switch (type) {
    case "memory_leak":
      return t.gettext("Memory leak");
    case "fork_bomb":
      return t.gettext("Fork bomb");
    case "cpu_spike":
      return t.gettext("CPU spike");
    default:
      return type;
  }
}

// What selfheal did about it, in words; the daemon's own word when it is not a known action.
export function anomalyActionText(action: string, t: Translator): string {
  switch (action) {
    case "":
    case "none":
      return t.gettext("No action");
    case "notify":
      return t.gettext("Notified");
    case "restart":
      return t.gettext("Restarted");
    case "kill":
      return t.gettext("Killed");
    case "kill_tree":
      return t.gettext("Killed the process tree");
    default:
      return action;
  }
}

export function anomalyRows(records: readonly AnomalyRecord[], nowUsec: number, t: Translator): AnomalyRow[] {
  return [...records]
    .sort((a, b) => b.timeUsec - a.timeUsec)
    .map((record, index) => ({
      key: `${record.timeUsec}:${record.process}:${record.type}:${index}`,
      whenText: formatAgo(record.timeUsec, nowUsec, t),
      process: record.process,
      pidText: record.pid > 0 ? String(record.pid) : "—",
      kindText: anomalyKindText(record.type, t),
      detail: record.detail,
      actionText: anomalyActionText(record.action, t),
      fit: leakFitOf(record),
    }));
}

// Whether the row of `key` (as anomalyRows makes it) is about the program `name`.
export function anomalyKeyNames(key: string, name: string): boolean {
  return key.split(":").slice(1, -2).join(":") === name;
}
