// The event history: one JSON object per line in events.jsonl, rotated at a
// size limit into events.jsonl.1. It plays the part of the original healing.log.
import { appendFileSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { EngineEvent } from "../engine/events.js";

export const EVENT_LOG_MAX_BYTES = 1024 * 1024;

export class EventLog {
  private size: number;
  private failing = false;

  constructor(
    readonly path: string,
    private readonly maxBytes = EVENT_LOG_MAX_BYTES,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = fileSize(path);
  }

  // Append one event; a full disk or a read-only folder loses the line, never the daemon.
  append(event: EngineEvent): void {
    const line = JSON.stringify(event) + "\n";
    try {
      if (this.size > 0 && this.size + line.length > this.maxBytes) {
        renameSync(this.path, `${this.path}.1`);
        this.size = 0;
      }
      appendFileSync(this.path, line);
      this.size += Buffer.byteLength(line);
      this.failing = false;
    } catch (error) {
      if (!this.failing) console.error(`selfheal: cannot write the event log ${this.path}: ${(error as Error).message}`);
      this.failing = true;
    }
  }

  // Events at or after sinceMs, oldest first, at most `limit` (the newest ones; 0 for all).
  read(sinceMs = 0, limit = 0): EngineEvent[] {
    const events: EngineEvent[] = [];
    for (const file of [`${this.path}.1`, this.path]) {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch {
        continue;
      }
      for (const line of text.split("\n")) {
        const event = parseLine(line);
        if (event && event.timeMs >= sinceMs) events.push(event);
      }
    }
    return limit > 0 ? events.slice(-limit) : events;
  }
}

// One line of the log, or null for a line cut short by a crash or edited by hand.
function parseLine(line: string): EngineEvent | null {
  if (line.trim() === "") return null;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null && "kind" in value && "timeMs" in value && typeof value.timeMs === "number") {
      return value as EngineEvent;
    }
  } catch {
    // skipped below
  }
  return null;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
