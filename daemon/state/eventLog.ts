// The event history: one JSON object per line in events.jsonl, rotated at a
// size limit into events.jsonl.1. It plays the part of the original healing.log.
// GetEvents asks for the last few events, or those since a time: an index of
// every line's place and time (built on the first read, then kept up to date
// by append) lets a read parse only the lines it returns, not both files.
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type { EngineEvent } from "../engine/events.js";

export const EVENT_LOG_MAX_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/** Where each well-formed line of one file is, and its event's time. */
interface FileIndex {
  offsets: number[];
  /** Bytes, the newline included. */
  lengths: number[];
  times: number[];
  /** The file as indexed: any other size or inode means it changed behind our back, and it is indexed again. */
  size: number;
  ino: number;
}

export class EventLog {
  private size: number;
  private failing = false;
  /** Events that could not be written since the daemon started. */
  writeErrors = 0;
  /** The last line in the file has no newline (cut short by a crash): the next append starts a new line. */
  private torn: boolean;
  /** [rotated, current], or null until the first read (and after a change not made by append). */
  private index: [FileIndex, FileIndex] | null = null;

  constructor(
    readonly path: string,
    private readonly maxBytes = EVENT_LOG_MAX_BYTES,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.size = fileSize(path);
    this.torn = !endsWithNewline(path, this.size);
  }

  // Append one event; a full disk or a read-only folder loses the line, never the daemon.
  append(event: EngineEvent): void {
    const json = JSON.stringify(event) + "\n";
    try {
      // The limit is in bytes: a message in another script takes more bytes than characters.
      if (this.size > 0 && this.size + Buffer.byteLength(json) > this.maxBytes) {
        renameSync(this.path, this.rotatedPath);
        this.size = 0;
        this.torn = false;
        // The files moved: the next read indexes them again (once per rotation).
        this.index = null;
      }
      const lead = this.torn ? "\n" : "";
      appendFileSync(this.path, lead + json);
      const offset = this.size + lead.length;
      const bytes = Buffer.byteLength(json);
      this.indexAppended(offset, bytes, event.timeMs);
      this.size = offset + bytes;
      this.torn = false;
      this.failing = false;
    } catch (error) {
      this.writeErrors += 1;
      if (!this.failing) console.error(`selfheal: cannot write the event log ${this.path}: ${(error as Error).message}`);
      this.failing = true;
      // A write cut short may have left part of a line: look again at what is there.
      this.size = fileSize(this.path);
      this.torn = !endsWithNewline(this.path, this.size);
      this.index = null;
    }
  }

  // Events at or after sinceMs, oldest first, at most `limit` (the newest ones; 0 for all).
  read(sinceMs = 0, limit = 0): EngineEvent[] {
    const index = this.freshIndex();
    // The first and last picked line of each file, walking newest first so that a limit stops early.
    const ranges: Array<{ from: number; to: number } | null> = [null, null];
    let picked = 0;
    for (let file = index.length - 1; file >= 0 && (limit === 0 || picked < limit); file--) {
      const { times } = index[file]!;
      for (let i = times.length - 1; i >= 0 && (limit === 0 || picked < limit); i--) {
        if (times[i]! < sinceMs) continue;
        picked++;
        ranges[file] = { from: i, to: ranges[file]?.to ?? i };
      }
    }
    // Between the first and the last picked line of a file, every line that holds an
    // event at or after sinceMs was picked too: read the stretch, keep those.
    const events: EngineEvent[] = [];
    for (const [file, range] of ranges.entries()) {
      if (range === null) continue;
      const { offsets, lengths } = index[file]!;
      const start = offsets[range.from]!;
      const text = readRange(file === 0 ? this.rotatedPath : this.path, start, offsets[range.to]! + lengths[range.to]! - start).toString("utf8");
      for (const line of text.split("\n")) {
        const event = parseLine(line);
        if (event && event.timeMs >= sinceMs) events.push(event);
      }
    }
    return events;
  }

  private get rotatedPath(): string {
    return `${this.path}.1`;
  }

  // The index, built again when there is none or either file is not as it was indexed.
  private freshIndex(): [FileIndex, FileIndex] {
    const matches = (file: string, index: FileIndex): boolean => {
      const stats = statSync(file, { throwIfNoEntry: false });
      return stats === undefined ? index.size === 0 : stats.size === index.size && stats.ino === index.ino;
    };
    if (this.index === null || !matches(this.rotatedPath, this.index[0]) || !matches(this.path, this.index[1])) {
      this.index = [indexFile(this.rotatedPath), indexFile(this.path)];
    }
    return this.index;
  }

  // Record a line just appended, when an index is kept.
  private indexAppended(offset: number, length: number, timeMs: number): void {
    const current = this.index?.[1];
    if (!current) return;
    current.offsets.push(offset);
    current.lengths.push(length);
    current.times.push(timeMs);
    current.size = offset + length;
  }
}

// The index of one file (empty when it does not exist): every line that holds an event.
function indexFile(path: string): FileIndex {
  const index: FileIndex = { offsets: [], lengths: [], times: [], size: 0, ino: 0 };
  let data: Buffer;
  try {
    index.ino = statSync(path).ino;
    data = readFileSync(path);
  } catch {
    return index;
  }
  index.size = data.length;
  let start = 0;
  while (start < data.length) {
    const newline = data.indexOf(NEWLINE, start);
    const end = newline === -1 ? data.length : newline + 1;
    const event = parseLine(data.toString("utf8", start, end));
    if (event) {
      index.offsets.push(start);
      index.lengths.push(end - start);
      index.times.push(event.timeMs);
    }
    start = end;
  }
  return index;
}

// `length` bytes of a file from `offset` (fewer if it is shorter now; none if it is gone).
function readRange(path: string, offset: number, length: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const read = readSync(fd, buffer, done, length - done, offset + done);
      if (read === 0) break;
      done += read;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
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

// Whether a file of `size` bytes ends with a newline (an empty or missing one does).
function endsWithNewline(path: string, size: number): boolean {
  if (size === 0) return true;
  const last = readRange(path, size - 1, 1);
  return last.length === 0 || last[0] === NEWLINE;
}
