// The cooldown state on disk: cooldown.json in the state folder, replaced
// atomically on every change so a kill -9 at any moment leaves a whole file.
import { readFileSync } from "node:fs";
import type { CooldownStore } from "../engine/engine.js";
import type { CooldownState } from "../cooldown/tracker.js";
import { writeFileAtomic, writeFileAtomicSync } from "./atomic.js";

const FORMAT_VERSION = 1;

export class FileCooldownStore implements CooldownStore {
  /** The state waiting to be written while a write is under way (only the newest matters), with its number. */
  private pending: { state: CooldownState; seq: number } | null = null;
  private writing = false;
  /** Every state handed to save() is numbered; `written` is the newest one on disk. */
  private seq = 0;
  private written = 0;
  /** Each name's cooldown end in the last state handed over: a later end is a cooldown that begins. */
  private untilByName = new Map<string, number>();
  /** The last state written at once, to write again should an older background write land after it. */
  private lastWrittenNow: CooldownState | null = null;

  constructor(readonly path: string) {}

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
      return parseCooldowns(JSON.parse(text));
    } catch (error) {
      console.error(`selfheal: ignoring ${this.path}, it is not a cooldown state file: ${(error as Error).message}`);
      return {};
    }
  }

  // Write in the background, off the restart path (an fsync takes milliseconds);
  // while one write runs, later states coalesce into the next write. A state in
  // which a cooldown begins is written at once: the engine announces the cooldown
  // next, and a kill -9 right after must not forget it.
  save(state: CooldownState): void {
    const seq = ++this.seq;
    if (this.beginsCooldown(state)) {
      try {
        this.writeNow(state, seq);
        return;
      } catch (error) {
        console.error(`selfheal: could not save the cooldown state at once, trying in the background: ${(error as Error).message}`);
      }
    }
    this.pending = { state, seq };
    if (this.writing) return;
    this.writing = true;
    void this.drain();
  }

  // Write now and wait (the daemon's shutdown).
  saveSync(state: CooldownState): void {
    this.writeNow(state, ++this.seq);
  }

  private writeNow(state: CooldownState, seq: number): void {
    writeFileAtomicSync(this.path, serialise(state));
    this.lastWrittenNow = state;
    this.written = Math.max(this.written, seq);
    if (this.pending !== null && this.pending.seq < seq) this.pending = null;
  }

  // True when a cooldown in force ends later than in the previous state: it has just begun.
  private beginsCooldown(state: CooldownState): boolean {
    const now = Date.now();
    let begins = false;
    const next = new Map<string, number>();
    for (const [name, record] of Object.entries(state)) {
      next.set(name, record.untilMs);
      if (record.untilMs > now && record.untilMs > (this.untilByName.get(name) ?? 0)) begins = true;
    }
    this.untilByName = next;
    return begins;
  }

  private async drain(): Promise<void> {
    while (this.pending !== null) {
      const { state, seq } = this.pending;
      this.pending = null;
      try {
        // A newer state written at once meanwhile (a cooldown that began) is never replaced by this older one.
        await writeFileAtomic(this.path, serialise(state), { stillWanted: () => seq > this.written });
        // Written at once while this write's rename was under way: whichever rename came last, the newer state goes back on disk.
        if (this.written > seq && this.lastWrittenNow !== null) writeFileAtomicSync(this.path, serialise(this.lastWrittenNow));
        this.written = Math.max(this.written, seq);
      } catch (error) {
        // A full disk keeps the previous whole file; the next change tries again.
        console.error(`selfheal: could not save the cooldown state: ${(error as Error).message}`);
      }
    }
    this.writing = false;
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
    const { restarts, untilMs } = (record ?? {}) as { restarts?: unknown; untilMs?: unknown };
    if (!Array.isArray(restarts) || typeof untilMs !== "number") continue;
    state[name] = { restarts: restarts.filter((t): t is number => typeof t === "number"), untilMs };
  }
  return state;
}
