// The Cooldown view: who is held back and for how long, counted down between refreshes, and
// who is building up restarts in the current window.

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import { formatDuration, MICROSECONDS_PER_SECOND } from "./format.js";
import type { CooldownRecord } from "./records.js";

export interface CooldownRow {
  key: string;
  name: string;
  /** Held back now (restarts paused), as opposed to only counting restarts. */
  held: boolean;
  remainingSeconds: number;
  remainingText: string;
  restartsText: string;
}

// Seconds left at `nowUsec`: from until_usec when the daemon gave it, otherwise from
// cooldown_remaining as it was when the records were fetched.
export function remainingSeconds(record: CooldownRecord, fetchedAtUsec: number, nowUsec: number): number {
  const left =
    record.untilUsec > 0
      ? (record.untilUsec - nowUsec) / MICROSECONDS_PER_SECOND
      : record.cooldownRemaining - (nowUsec - fetchedAtUsec) / MICROSECONDS_PER_SECOND;
  return Math.max(0, left);
}

export function cooldownRows(records: readonly CooldownRecord[], fetchedAtUsec: number, nowUsec: number, t: Translator): CooldownRow[] {
  return records
    .map((record) => {
      const wasHeld = record.untilUsec > 0 || record.cooldownRemaining > 0;
      const seconds = remainingSeconds(record, fetchedAtUsec, nowUsec);
      const held = wasHeld && seconds > 0;
      return {
        key: record.name,
        name: record.name,
        held,
        remainingSeconds: seconds,
        remainingText: held
          ? interpolate(t.gettext("held back for {duration}"), { duration: formatDuration(seconds, t) })
          : wasHeld
            ? t.gettext("cooldown ending")
            : t.gettext("not held back"),
        restartsText: interpolate(
          t.ngettext("{n} restart in the window", "{n} restarts in the window", record.restartsInWindow),
          { n: record.restartsInWindow },
        ),
      };
    })
    .sort((a, b) => Number(b.held) - Number(a.held) || b.remainingSeconds - a.remainingSeconds || a.name.localeCompare(b.name));
}
