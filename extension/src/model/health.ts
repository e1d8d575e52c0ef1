// The indicator's look: one of four levels, told by the icon's shape and colour, with a count of
// the programs in trouble. Crashes are remembered for a while, so a crash the daemon healed at
// once still shows.

import type { Translator } from "./i18n.js";
import { interpolate } from "./i18n.js";
import { formatPercent } from "./format.js";
import type { ManagerStatus } from "./records.js";

export type Level = "ok" | "degraded" | "critical" | "offline";

const LEVEL_RANK: Record<Level, number> = { ok: 0, degraded: 1, critical: 2, offline: 3 };

export interface RecentCrash {
  name: string;
  pid: number;
  willRestart: boolean;
  /** When the crash was seen, in milliseconds of a monotonic clock. */
  atMs: number;
}

// Remembers recent crashes per process for `holdMs`. A crash the daemon will restart reads as
// degraded; one it will not restart reads as critical until the process runs again.
export class CrashTracker {
  #holdMs: number;
  #crashes = new Map<string, RecentCrash>();

  constructor(holdMs: number) {
    this.#holdMs = holdMs;
  }

  set holdMs(ms: number) {
    this.#holdMs = ms;
  }

  note(crash: RecentCrash): void {
    this.#crashes.set(crash.name, crash);
  }

  // The process runs again: a crash that left it down no longer holds the icon at critical.
  restarted(name: string): void {
    const crash = this.#crashes.get(name);
    if (crash && !crash.willRestart) this.#crashes.set(name, { ...crash, willRestart: true });
  }

  // The daemon now reports the process through its cooldown count: drop it here to count it once.
  forget(name: string): void {
    this.#crashes.delete(name);
  }

  clear(): void {
    this.#crashes.clear();
  }

  // The crashes still within their hold at `nowMs`; older ones are dropped.
  active(nowMs: number): RecentCrash[] {
    for (const [name, crash] of this.#crashes) {
      if (nowMs - crash.atMs >= this.#holdMs) this.#crashes.delete(name);
    }
    return [...this.#crashes.values()];
  }

  // Milliseconds until the next crash leaves its hold, or null when none is held.
  nextExpiryMs(nowMs: number): number | null {
    let next: number | null = null;
    for (const crash of this.#crashes.values()) {
      const left = Math.max(0, crash.atMs + this.#holdMs - nowMs);
      next = next === null ? left : Math.min(next, left);
    }
    return next;
  }
}

export interface IndicatorInput {
  connected: boolean;
  status: ManagerStatus;
  crashes: readonly RecentCrash[];
  showCount: boolean;
  /** The watched programs' combined CPU, or null when it is not shown. */
  cpuPercent: number | null;
}

export interface IndicatorState {
  level: Level;
  /** The icon file's name without extension, under icons/. */
  iconName: string;
  /** Empty when no count is shown. */
  countText: string;
  /** Empty when the CPU figure is hidden. */
  cpuText: string;
  /** One sentence for screen readers and the menu's header. */
  summary: string;
}

function maxLevel(a: Level, b: Level): Level {
  return LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;
}

// The level the daemon's own figures call for.
export function daemonLevel(status: ManagerStatus): Level {
  if (status.health === "critical") return "critical";
  if (status.health === "degraded" || status.cooldownCount > 0) return "degraded";
  return "ok";
}

export function indicatorState(input: IndicatorInput, t: Translator): IndicatorState {
  if (!input.connected) {
    return {
      level: "offline",
      iconName: "selfheal-offline-symbolic",
      countText: "",
      cpuText: "",
      summary: t.gettext("selfheal is not running"),
    };
  }
  let level = daemonLevel(input.status);
  for (const crash of input.crashes) level = maxLevel(level, crash.willRestart ? "degraded" : "critical");

  const troubled = input.crashes.length + input.status.cooldownCount;
  const parts: string[] = [];
  if (input.crashes.length > 0) {
    parts.push(interpolate(t.ngettext("{n} recent crash", "{n} recent crashes", input.crashes.length), { n: input.crashes.length }));
  }
  if (input.status.cooldownCount > 0) {
    parts.push(
      interpolate(t.ngettext("{n} program held back", "{n} programs held back", input.status.cooldownCount), {
        n: input.status.cooldownCount,
      }),
    );
  }
  // A rejected config.toml comes first: what the user saved is not what runs.
  if (input.status.configError !== "") {
    const [problem = ""] = input.status.configError.split("\n");
    parts.unshift(interpolate(t.gettext("config.toml rejected ({problem})"), { problem }));
  }
  if (parts.length === 0) {
    parts.push(
      level === "ok" ? t.gettext("all programs well") : level === "critical" ? t.gettext("needs attention") : t.gettext("some programs need a look"),
    );
  }
  return {
    level,
    iconName: `selfheal-${level}-symbolic`,
    countText: input.showCount && troubled > 0 ? String(troubled) : "",
    cpuText: input.cpuPercent === null ? "" : formatPercent(input.cpuPercent, t),
    summary: interpolate(t.gettext("selfheal: {details}"), { details: parts.join(", ") }),
  };
}
