// The event log on disk: rotation at a size in bytes, reads by time and
// limit across both files (from the index, and after someone else changed
// the files), and a line cut short by a crash costing no later event.
import { afterEach, describe, expect, it } from "vitest";
import { appendFileSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "../../daemon/engine/events.js";
import { EventLog } from "../../daemon/state/eventLog.js";
import { makeTestDir } from "../helpers/daemon.js";

let dir = "";
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// A small event at `timeMs` whose message is `message`.
function event(timeMs: number, message = `event ${timeMs}`): EngineEvent {
  return { kind: "config-rejected", timeMs, file: "config.toml", error: "", message };
}

// The events of one file, parsed the plain way (what read must agree with).
function eventsIn(file: string): EngineEvent[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").flatMap((line) => {
    try {
      return line.trim() === "" ? [] : [JSON.parse(line) as EngineEvent];
    } catch {
      return [];
    }
  });
}

// Every event of both files, oldest first.
function everyEvent(path: string): EngineEvent[] {
  return [...eventsIn(`${path}.1`), ...eventsIn(path)];
}

describe("EventLog", () => {
  it("rotates by bytes, not characters: a file never grows past the limit with messages in another script", () => {
    dir = makeTestDir("eventlog");
    const path = join(dir, "events.jsonl");
    const maxBytes = 2000;
    const log = new EventLog(path, maxBytes);
    // Cyrillic: two bytes a character in UTF-8; lines of many lengths.
    for (let i = 0; i < 60; i++) {
      log.append(event(i, "сбой".repeat(1 + ((i * 37) % 120))));
      expect(statSync(path).size).toBeLessThanOrEqual(maxBytes);
    }
    expect(statSync(`${path}.1`).size).toBeLessThanOrEqual(maxBytes);
  });

  it("reads the newest events, or those since a time, across the rotated file, as a plain parse of both files does", () => {
    dir = makeTestDir("eventlog");
    const path = join(dir, "events.jsonl");
    const log = new EventLog(path, 4000);
    // A first read builds the index; appends after it keep it up to date, through rotations.
    expect(log.read()).toEqual([]);
    for (let i = 1; i <= 150; i++) {
      log.append(event(i * 10));
      if (i % 37 === 0) {
        const all = everyEvent(path);
        expect(log.read()).toEqual(all);
        expect(log.read(0, 5)).toEqual(all.slice(-5));
        expect(log.read(all.at(-20)!.timeMs)).toEqual(all.slice(-20));
        expect(log.read(all.at(-20)!.timeMs, 3)).toEqual(all.slice(-3));
      }
    }
    const all = everyEvent(path);
    expect(all.length).toBeGreaterThan(20);
    expect(all[0]!.timeMs).toBeGreaterThan(10);
    // Beyond what both files hold: the oldest left, or none.
    expect(log.read(0, 10_000)).toEqual(all);
    expect(log.read(1_000_000)).toEqual([]);
    // Across the two files: the last 5 of .1 and the first 5 of the current one.
    const rotated = eventsIn(`${path}.1`).length;
    const since = all[rotated - 5]!.timeMs;
    expect(log.read(since).slice(0, 10)).toEqual(all.slice(rotated - 5, rotated + 5));
    // A daemon started on these files reads the same.
    expect(new EventLog(path, 4000).read(since, 7)).toEqual(all.slice(-7));
  });

  it("reads right after someone else rewrote or removed the files", () => {
    dir = makeTestDir("eventlog");
    const path = join(dir, "events.jsonl");
    const log = new EventLog(path);
    for (let i = 1; i <= 5; i++) log.append(event(i));
    expect(log.read(0, 2).map((e) => e.timeMs)).toEqual([4, 5]);
    writeFileSync(path, `${JSON.stringify(event(100))}\n${JSON.stringify(event(200))}\n`);
    expect(log.read(0, 1).map((e) => e.timeMs)).toEqual([200]);
    rmSync(path);
    expect(log.read()).toEqual([]);
    log.append(event(300));
    expect(log.read().map((e) => e.timeMs)).toEqual([300]);
  });

  it("keeps the next event after a line cut short by a crash", () => {
    dir = makeTestDir("eventlog");
    const path = join(dir, "events.jsonl");
    writeFileSync(path, `${JSON.stringify(event(1))}\n`);
    // The daemon was killed in the middle of writing a line.
    appendFileSync(path, JSON.stringify(event(2)).slice(0, 25));
    const log = new EventLog(path);
    log.append(event(3));
    expect(log.read().map((e) => e.timeMs)).toEqual([1, 3]);
    expect(new EventLog(path).read().map((e) => e.timeMs)).toEqual([1, 3]);
  });
});
