// The cooldown state on disk: cooldown.json in the state folder, replaced
// atomically on every change so a kill -9 at any moment leaves a whole file.
import { readFileSync } from "node:fs";
import type { CooldownStore } from "../engine/engine.js";
import type { CooldownState } from "../cooldown/tracker.js";
import { LatestFileWriter } from "./latestFile.js";

const FORMAT_VERSION = 1;

export class FileCooldownStore implements CooldownStore {
  private readonly writer: LatestFileWriter;
  /** Each name's cooldown end in the last state handed over: a later end is a cooldown that begins, none an early end. */
  private untilByName = new Map<string, number>();

  constructor(readonly path: string) {
    // A full disk keeps the previous whole file; the next change tries again.
    this.writer = new LatestFileWriter(path, (error) => console.error(`selfheal: could not save the cooldown state: ${error.message}`));
  }

  // The saved state; a missing file is none, an unreadable one is reported and ignored.
  load(): CooldownState {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") console.error(`selfheal: cannot read ${this.path}: ${(error as Error).message}`);
      return {};
    }
    try {
      const state = parseCooldowns(JSON.parse(text));
      // A cooldown of an earlier run that ends early in this one is written at once too.
      this.untilByName = new Map(Object.entries(state).map(([name, record]) => [name, record.untilMs]));
      return state;
    } catch (error) {
      console.error(`selfheal: ignoring ${this.path}, it is not a cooldown state file: ${(error as Error).message}`);
      return {};
    }
  }

  // Write in the background, off the restart path (an fsync takes milliseconds);
  // while one write runs, later states coalesce into the next write. A state in
  // which a cooldown begins, or one in force ends early, is written at once: the
  // engine announces it next (and, at an end, starts the program), and a kill -9
  // right after must not undo it.
  save(state: CooldownState): void {
    if (this.changesCooldown(state)) {
      try {
        this.writer.writeSync(serialise(state));
        return;
      } catch (error) {
        console.error(`selfheal: could not save the cooldown state at once, trying in the background: ${(error as Error).message}`);
      }
    }
    this.writer.write(serialise(state));
  }

  // Write now and wait (the daemon's shutdown); a background write still under way cannot land after it.
  saveSync(state: CooldownState): void {
    this.writer.writeSync(serialise(state));
  }

  // Resolves once no background write is under way.
  idle(): Promise<void> {
    return this.writer.idle();
  }

  // True when a cooldown begins (one in force ends later than in the previous state)
  // or one in force ends (before its time: ResetCooldown, StartProcess).
  private changesCooldown(state: CooldownState): boolean {
    const now = Date.now();
    let changes = false;
    const next = new Map<string, number>();
    for (const [name, record] of Object.entries(state)) {
      next.set(name, record.untilMs);
      if (record.untilMs > now && record.untilMs > (this.untilByName.get(name) ?? 0)) changes = true;
    }
    for (const [name, untilMs] of this.untilByName) {
      if (untilMs > now && (next.get(name) ?? 0) <= now) changes = true;
    }
    this.untilByName = next;
    return changes;
  }
}

function serialise(state: CooldownState): string {
  return JSON.stringify({ version: FORMAT_VERSION, cooldowns: state }) + "\n";
}

// Keep only well-formed records: a hand-edited file must not poison the engine.
function parseCooldowns(value: unknown): CooldownState {
  const cooldowns = (value as { cooldowns?: unknown } | null)?.cooldowns;
  if (typeof cooldowns !== "object" || cooldowns === null) throw new Error("no cooldowns object");
  const state: CooldownState = {};
  for (const [name, record] of Object.entries(cooldowns)) {
    const { restarts, untilMs, announced } = (record ?? {}) as { restarts?: unknown; untilMs?: unknown; announced?: unknown };
    if (!Array.isArray(restarts) || typeof untilMs !== "number") continue;
    state[name] = { restarts: restarts.filter((t): t is number => typeof t === "number"), untilMs };
    if (typeof announced === "boolean") state[name].announced = announced;
  }
  return state;
}
