// Numbers for people: memory in KB/MB/GB, CPU in percent, durations and "2 min ago".

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";

/** Bytes per KB, MB and GB: binary, as config.toml's memory_limit_mb counts them. */
const BYTES_PER_KB = 1024;
const SECONDS_PER_MINUTE = 60;
const SECONDS_PER_HOUR = 60 * SECONDS_PER_MINUTE;
const SECONDS_PER_DAY = 24 * SECONDS_PER_HOUR;
const USEC_PER_SECOND = 1_000_000;
/** Below this many seconds, an event happened "just now". */
const JUST_NOW_SECONDS = 10;
/** Below this, show one decimal (4.2 MB, 3.4%); from it on, whole numbers (120 MB, 87%). */
const ONE_DECIMAL_BELOW = 10;

// One decimal for small values, none for large ones; never "-0".
function compact(value: number): string {
  const rounded = value < ONE_DECIMAL_BELOW ? Math.round(value * 10) / 10 : Math.round(value);
  return rounded === 0 ? "0" : String(rounded);
}

// Memory for people: "0 B", "512 B", "12 KB", "4.2 MB", "120 MB", "1.5 GB".
export function formatBytes(bytes: number, t: Translator): string {
  if (!(bytes > 0)) return interpolate(t.gettext("{n} B"), { n: 0 });
  if (bytes < BYTES_PER_KB) return interpolate(t.gettext("{n} B"), { n: Math.round(bytes) });
  const units = [t.gettext("{n} KB"), t.gettext("{n} MB"), t.gettext("{n} GB"), t.gettext("{n} TB")];
  let value = bytes / BYTES_PER_KB;
  let unit = 0;
  // Move up a unit when rounding would print 1024 of this one.
  while (unit < units.length - 1 && Math.round(value) >= BYTES_PER_KB) {
    value /= BYTES_PER_KB;
    unit++;
  }
  return interpolate(units[unit] ?? "{n}", { n: compact(value) });
}

// CPU for people, in percent of one core: "0%", "3.4%", "87%", "250%".
export function formatPercent(percent: number, t: Translator): string {
  return interpolate(t.gettext("{n}%"), { n: compact(Math.max(0, percent)) });
}

// A span of time, to the two largest units: "45 s", "2 min 5 s", "1 h 3 min", "2 d 4 h".
export function formatDuration(seconds: number, t: Translator): string {
  const total = Math.max(0, Math.ceil(seconds));
  if (total < SECONDS_PER_MINUTE) return interpolate(t.gettext("{s} s"), { s: total });
  if (total < SECONDS_PER_HOUR) {
    const minutes = Math.floor(total / SECONDS_PER_MINUTE);
    const rest = total % SECONDS_PER_MINUTE;
    return rest === 0
      ? interpolate(t.gettext("{m} min"), { m: minutes })
      : interpolate(t.gettext("{m} min {s} s"), { m: minutes, s: rest });
  }
  if (total < SECONDS_PER_DAY) {
    const hours = Math.floor(total / SECONDS_PER_HOUR);
    const minutes = Math.floor((total % SECONDS_PER_HOUR) / SECONDS_PER_MINUTE);
    return minutes === 0
      ? interpolate(t.gettext("{h} h"), { h: hours })
      : interpolate(t.gettext("{h} h {m} min"), { h: hours, m: minutes });
  }
  const days = Math.floor(total / SECONDS_PER_DAY);
  const hours = Math.floor((total % SECONDS_PER_DAY) / SECONDS_PER_HOUR);
  return hours === 0
    ? interpolate(t.gettext("{d} d"), { d: days })
    : interpolate(t.gettext("{d} d {h} h"), { d: days, h: hours });
}

// How long ago something happened: "just now", "45 s ago", "2 min ago", "3 h ago", "2 days ago".
export function formatAgo(thenUsec: number, nowUsec: number, t: Translator): string {
  const seconds = Math.max(0, (nowUsec - thenUsec) / USEC_PER_SECOND);
  if (seconds < JUST_NOW_SECONDS) return t.gettext("just now");
  if (seconds < SECONDS_PER_MINUTE) return interpolate(t.gettext("{n} s ago"), { n: Math.floor(seconds) });
  if (seconds < SECONDS_PER_HOUR) return interpolate(t.gettext("{n} min ago"), { n: Math.floor(seconds / SECONDS_PER_MINUTE) });
  if (seconds < SECONDS_PER_DAY) return interpolate(t.gettext("{n} h ago"), { n: Math.floor(seconds / SECONDS_PER_HOUR) });
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  return interpolate(t.ngettext("{n} day ago", "{n} days ago", days), { n: days });
}

export const MICROSECONDS_PER_SECOND = USEC_PER_SECOND;
