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
