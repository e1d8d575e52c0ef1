// The Zombies view: each zombie with its parent, and the outcome of a cleanup in words.

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import { formatDuration } from "./format.js";
import type { ZombieRecord } from "./records.js";

export interface ZombieRow {
  key: string;
  title: string;
  parentText: string;
  ageText: string;
}

// "name (PID 123)", or just "PID 123" when the name is not known.
function processLabel(name: string, pid: number, t: Translator): string {
  return name === ""
    ? interpolate(t.gettext("PID {pid}"), { pid })
    : interpolate(t.gettext("{name} (PID {pid})"), { name, pid });
}

export function zombieRows(records: readonly ZombieRecord[], t: Translator): ZombieRow[] {
  return [...records]
    .sort((a, b) => b.age - a.age || a.pid - b.pid)
    .map((record) => ({
      key: String(record.pid),
      title: processLabel(record.name, record.pid, t),
      parentText: interpolate(t.gettext("parent: {parent}"), { parent: processLabel(record.parentName, record.ppid, t) }),
      ageText: interpolate(t.gettext("for {duration}"), { duration: formatDuration(record.age, t) }),
    }));
}

// What CleanupZombies did, as a sentence: "Reaped 2 zombies; 1 remains."
export function cleanupSummary(reaped: number, remaining: number, t: Translator): string {
  const reapedText =
    reaped === 0 ? t.gettext("No zombie was reaped") : interpolate(t.ngettext("Reaped {n} zombie", "Reaped {n} zombies", reaped), { n: reaped });
  const remainingText =
    remaining === 0 ? t.gettext("none remain") : interpolate(t.ngettext("{n} remains", "{n} remain", remaining), { n: remaining });
  return interpolate(t.gettext("{reaped}; {remaining}."), { reaped: reapedText, remaining: remainingText });
}

/** One parent of zombies: what it holds, and whether it may be ended on request. */
export interface ZombieParentRow {
  key: string;
  ppid: number;
  /** "leaky (PID 17)". */
  title: string;
  /** "2 zombies; it does not reap them when asked" or why selfheal will not end it. */
  detail: string;
  /** False when the daemon would refuse (PID 1, the session, another user, [zombies] protected). */
  canEnd: boolean;
  /** The question the confirmation asks: "End leaky (PID 17)?". */
  confirmText: string;
}

// Why a parent keeps its zombies, from ListZombies' parent_sigchld.
function whyKept(sigchld: string, t: Translator): string {
  switch (sigchld) {
    case "blocked":
      return t.gettext("it blocks SIGCHLD, so it never hears the request to reap");
    case "ignored":
      return t.gettext("it ignores SIGCHLD, so the request to reap does nothing");
    case "handled":
      return t.gettext("its SIGCHLD handler does not collect them");
    case "default":
      return t.gettext("it collects its children only when its own code asks, and it does not");
    default:
      return t.gettext("it does not reap them");
  }
}

// The parents of the zombies, the one holding most first: a row each, for the per-parent "End parent" button.
export function zombieParentRows(records: readonly ZombieRecord[], t: Translator): ZombieParentRow[] {
  const parents = new Map<number, { record: ZombieRecord; count: number }>();
  for (const record of records) {
    if (record.ppid <= 0) continue;
    const seen = parents.get(record.ppid);
    parents.set(record.ppid, { record: seen?.record ?? record, count: (seen?.count ?? 0) + 1 });
  }
  return [...parents.values()]
    .sort((a, b) => b.count - a.count || a.record.ppid - b.record.ppid)
    .map(({ record, count }) => {
      const title = processLabel(record.parentName, record.ppid, t);
      const held = interpolate(t.ngettext("{n} zombie", "{n} zombies", count), { n: count });
      const canEnd = record.parentProtected === "";
      const detail = canEnd
        ? interpolate(t.gettext("{held}; {why}"), { held, why: whyKept(record.parentSigchld, t) })
        : interpolate(t.gettext("{held}; selfheal will not end it: {reason}"), { held, reason: record.parentProtected });
      return { key: String(record.ppid), ppid: record.ppid, title, detail, canEnd, confirmText: interpolate(t.gettext("End {parent}?"), { parent: title }) };
    });
}

// What EndZombieParent did, as a sentence: "Ended leaky (PID 17): reaped 2 zombies; none remain."
export function endParentSummary(title: string, reaped: number, remaining: number, t: Translator): string {
  return interpolate(t.gettext("Ended {parent}: {summary}"), { parent: title, summary: cleanupSummary(reaped, remaining, t) });
}
